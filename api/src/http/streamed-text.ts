/**
 * A response streamed from rows fetched in chunks: `open`, the rows joined by `join`, then `close`.
 * The first chunk is fetched before anything is sent, so that PostgreSQL failing at once is still a
 * proper 503; a failure later can only cut the response short (the client sees it end early).
 */
import { Readable } from 'node:stream';

export interface TextShape {
  open: string;
  join: string;
  close: string;
  /** The whole response when no row matches. */
  empty: string;
}

export const JSON_ARRAY: TextShape = { open: '[', join: ',', close: ']', empty: '[]' };
export const NDJSON: TextShape = { open: '', join: '\n', close: '\n', empty: '' };

export async function streamedText(chunks: AsyncGenerator<string[]>, shape: TextShape): Promise<Readable> {
  const first = await chunks.next();
  async function* text() {
    if (first.done) {
      yield shape.empty;
      return;
    }
    yield shape.open + first.value.join(shape.join);
    for await (const chunk of chunks) yield shape.join + chunk.join(shape.join);
    yield shape.close;
  }
  const readable = Readable.from(text());
  // The response went away: stop reading, which gives the connection back.
  readable.on('close', () => void chunks.return(undefined));
  return readable;
}
