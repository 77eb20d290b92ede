/**
 * Rows in PostgreSQL's COPY text format (tab-separated columns, `\N` for NULL, one line per row).
 * COPY is the fastest way to hand PostgreSQL many rows: a batch travels as one stream that the server
 * parses without a per-row statement or array literal.
 *
 * A batch's rows are encoded as soon as it is decoded, into one buffer: while the batch waits for its
 * turn it holds a few hundred bytes per event outside the JavaScript heap, instead of an object and
 * seven strings per event that the garbage collector would have to trace and promote.
 */
import type { UserActionRow } from './decode.js';

/** The columns, in the order a line holds them. */
export const COPY_COLUMNS = ['event_id', 'userid', 'action', 'ipaddress', 'device', 'timestamp', 'metadata'] as const;

const SPECIAL = /[\\\t\n\r]/;
const EVERY_SPECIAL = new RegExp(SPECIAL.source, 'g');
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as COPY text reads it back unchanged: backslash, tab, newline and carriage return escaped. */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return SPECIAL.test(value) ? value.replace(EVERY_SPECIAL, (character) => ESCAPES[character] as string) : value;
}

export function toCopyLine(row: UserActionRow): string {
  return `${copyValue(row.eventId)}\t${copyValue(row.userId)}\t${copyValue(row.action)}\t${copyValue(row.ipAddress)}\t${copyValue(row.device)}\t${copyValue(row.timestamp)}\t${copyValue(row.metadata)}\n`;
}

/** Consecutive rows of a batch as COPY text; `slice` shares the text, as the bisection of bad rows needs. */
export class CopyRows {
  constructor(
    private readonly buffer: Buffer,
    /** Byte offset where each row starts, and one more where the last ends. */
    private readonly bounds: Uint32Array,
    private readonly first = 0,
    private readonly end = bounds.length - 1,
  ) {}

  get length(): number {
    return this.end - this.first;
  }

  get text(): Buffer {
    return this.buffer.subarray(this.bounds[this.first], this.bounds[this.end]);
  }

  slice(start: number, end = this.length): CopyRows {
    return new CopyRows(this.buffer, this.bounds, this.first + start, this.first + Math.min(end, this.length));
  }
}

// UTF-8 takes at most three bytes per UTF-16 code unit.
const MAX_BYTES_PER_CHARACTER = 3;

/** Collects a batch's rows; `finish` copies them into a buffer of their exact size. */
export class CopyRowsWriter {
  private scratch: Buffer;
  private readonly bounds: number[] = [0];
  private used = 0;

  /** `expectedBytes`: a guess at the text's size; the writer grows past it as needed. */
  constructor(expectedBytes = 64 * 1024) {
    this.scratch = Buffer.allocUnsafe(Math.max(expectedBytes, 1024));
  }

  add(row: UserActionRow): void {
    const line = toCopyLine(row);
    const needed = this.used + line.length * MAX_BYTES_PER_CHARACTER;
    if (needed > this.scratch.length) {
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.scratch.length * 2));
      this.scratch.copy(bigger, 0, 0, this.used);
      this.scratch = bigger;
    }
    this.used += this.scratch.write(line, this.used);
    this.bounds.push(this.used);
  }

  finish(): CopyRows {
    return new CopyRows(Buffer.from(this.scratch.subarray(0, this.used)), Uint32Array.from(this.bounds));
  }
}

export function toCopyRows(rows: Iterable<UserActionRow>): CopyRows {
  const writer = new CopyRowsWriter();
  for (const row of rows) writer.add(row);
  return writer.finish();
}
