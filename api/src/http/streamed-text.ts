/**
 * A response streamed from rows fetched in chunks: `open`, the rows joined by `join`, then `close`.
 * The first chunk is fetched before anything is sent, so that PostgreSQL failing at once is still a
 * proper 503; a failure later can only cut the response short (the client sees it end early).
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';

export interface TextShape {
  open: string;
  join: string;
  close: string;
  /** The whole response when no row matches. */
  empty: string;
}

export const JSON_ARRAY: TextShape = { open: '[', join: ',', close: ']', empty: '[]' };

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

/**
 * A stream from PostgreSQL (a COPY) inside `open` and `close`, once its first chunk has come: a query
 * that fails at once is still a proper 503, not a 200 cut short.
 */
export async function startedStream(source: Readable, { open = '', close = '' } = {}): Promise<Readable> {
  const chunks: AsyncIterator<Buffer> = source[Symbol.asyncIterator]();
  const first = await chunks.next();
  async function* text() {
    if (open) yield open;
    for (let chunk = first; !chunk.done; chunk = await chunks.next()) yield chunk.value;
    if (close) yield close;
  }
  const readable = Readable.from(text());
  // The response went away: stop reading, which gives the connection back.
  readable.on('close', () => source.destroy());
  return readable;
}

/**
 * A stream that fails after its status was sent can only be cut short; the client sees it end early,
 * and the log says why (a client that went away is no failure of ours).
 */
export function reportFailure(readable: Readable, request: FastifyRequest): Readable {
  readable.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE' || request.raw.destroyed) return;
    request.log.warn({ err: error, url: request.url }, 'a response stream failed after it began; the client received part of it');
  });
  return readable;
}
