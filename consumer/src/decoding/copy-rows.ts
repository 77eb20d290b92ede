/**
 * Rows in PostgreSQL's COPY text format (tab-separated columns, `\N` for NULL, one line per row).
 * COPY is the fastest way to hand PostgreSQL many rows: a batch travels as one stream that the server
 * parses without a per-row statement or array literal.
 *
 * A batch's rows are encoded as soon as it is decoded, into one buffer: while the batch waits for its
 * turn it holds a few hundred bytes per event outside the JavaScript heap, instead of an object and
 * seven strings per event that the garbage collector would have to trace and promote.
 */
import { COLUMNS, type UserActionRow } from '@user-actions/shared/event/columns';
import { ACTIONS } from '@user-actions/shared/event/schema';

const SPECIAL = /[\\\t\n\r]/;
const EVERY_SPECIAL = new RegExp(SPECIAL.source, 'g');
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as COPY text reads it back unchanged: backslash, tab, newline and carriage return escaped. */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return SPECIAL.test(value) ? value.replace(EVERY_SPECIAL, (character) => ESCAPES[character] as string) : value;
}

/** Events of one second and one action: the second since the epoch, the action's index in ACTIONS, how many. */
export type SecondCount = [second: number, action: number, events: number];

const ACTION_INDEX = new Map<string, number>(ACTIONS.map((action, index) => [action, index]));

/**
 * Consecutive rows of a batch as COPY text, with each row's second and action for the tallies; `slice`
 * shares them, as the bisection of bad rows needs.
 */
export class CopyRows {
  constructor(
    private readonly buffer: Buffer,
    /** Byte offset where each row starts, and one more where the last ends. */
    private readonly bounds: Uint32Array,
    /** Each row's event time, in whole seconds since the epoch. */
    private readonly seconds: Float64Array,
    /** Each row's action, as its index in ACTIONS. */
    private readonly actions: Uint8Array,
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
    const { buffer, bounds, seconds, actions, first } = this;
    return new CopyRows(buffer, bounds, seconds, actions, first + start, first + Math.min(end, this.length));
  }

  /** The rows' events per second and action. */
  countsPerSecond(): SecondCount[] {
    const counts = new Map<number, number>();
    for (let row = this.first; row < this.end; row++) {
      const key = (this.seconds[row] as number) * ACTIONS.length + (this.actions[row] as number);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([key, events]) => [Math.floor(key / ACTIONS.length), key % ACTIONS.length, events]);
  }
}

export interface CopyRowsParts {
  text: Uint8Array<ArrayBuffer>;
  /** Byte offset where each row starts, and one more where the last ends. */
  bounds: Uint32Array<ArrayBuffer>;
  seconds: Float64Array<ArrayBuffer>;
  actions: Uint8Array<ArrayBuffer>;
}

export function copyRowsFrom({ text, bounds, seconds, actions }: CopyRowsParts): CopyRows {
  return new CopyRows(Buffer.from(text.buffer, text.byteOffset, text.byteLength), bounds, seconds, actions);
}

// UTF-8 takes at most three bytes per UTF-16 code unit.
const MAX_BYTES_PER_CHARACTER = 3;

const TAB = 0x09;
const NEWLINE = 0x0a;
const FIELDS = COLUMNS.map(({ field }) => field);
// Values the schema's patterns have checked (ids, action names, timestamps): nothing to escape.
const PLAIN = COLUMNS.map(({ plain }) => plain);

/** Collects a batch's rows; `finish` copies them into a buffer of their exact size. */
export class CopyRowsWriter {
  private scratch: Buffer;
  private readonly bounds: number[] = [0];
  private readonly seconds: number[] = [];
  private readonly actions: number[] = [];
  private used = 0;

  /** `expectedBytes`: a guess at the text's size; the writer grows past it as needed. */
  constructor(expectedBytes = 64 * 1024) {
    this.scratch = Buffer.allocUnsafe(Math.max(expectedBytes, 1024));
  }

  /**
   * Writes the row's values straight into the buffer, in the order of COLUMNS: a whole line as one
   * string first (the same bytes) made the consumer allocate twice what the row takes, a third of its
   * garbage.
   */
  add(row: UserActionRow, eventTime = Date.parse(row.timestamp)): void {
    const action = ACTION_INDEX.get(row.action);
    if (action === undefined) throw new Error(`not an action: ${JSON.stringify(row.action)}`);
    let characters = 0;
    for (const field of FIELDS) characters += row[field]?.length ?? 2;
    // An escaped character takes two bytes, within the three allowed for any; one separator a column.
    this.reserve(characters * MAX_BYTES_PER_CHARACTER + FIELDS.length);
    const last = FIELDS.length - 1;
    for (let index = 0; index <= last; index++) {
      const value = row[FIELDS[index] as keyof UserActionRow];
      const text = PLAIN[index] ? (value as string) : copyValue(value);
      this.used += this.scratch.write(text, this.used);
      this.scratch[this.used++] = index === last ? NEWLINE : TAB;
    }
    this.bounds.push(this.used);
    this.seconds.push(Math.floor(eventTime / 1000));
    this.actions.push(action);
  }

  finish(): CopyRows {
    return copyRowsFrom(this.finishParts());
  }

  /** The text in an ArrayBuffer of its own, which can be moved to another thread, and the rows' bounds. */
  finishParts(): CopyRowsParts {
    const text = new Uint8Array(this.used);
    text.set(this.scratch.subarray(0, this.used));
    return {
      text,
      bounds: Uint32Array.from(this.bounds),
      seconds: Float64Array.from(this.seconds),
      actions: Uint8Array.from(this.actions),
    };
  }

  private reserve(bytes: number): void {
    const needed = this.used + bytes;
    if (needed <= this.scratch.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.scratch.length * 2));
    this.scratch.copy(bigger, 0, 0, this.used);
    this.scratch = bigger;
  }
}

export function toCopyRows(rows: Iterable<UserActionRow>): CopyRows {
  const writer = new CopyRowsWriter();
  for (const row of rows) writer.add(row);
  return writer.finish();
}
