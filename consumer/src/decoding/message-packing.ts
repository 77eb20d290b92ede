/**
 * A whole batch of messages into COPY rows, in a form that crosses between threads cheaply: the
 * messages' bytes in one buffer, the rows' text in another, numbers in typed arrays. The decoding
 * thread (decode-worker.ts) runs `decodeMessages`; the loader's thread only packs and unpacks.
 */
import { type CopyRowsParts, CopyRowsWriter } from './copy-rows.js';
import { decodeMessage } from './decode-message.js';
import type { MessageHeaders } from './message-origin.js';

/** A Kafka message as far as decoding needs it (kafkajs' KafkaMessage is one). */
export interface MessageIn {
  offset: string;
  value: Buffer | null;
  headers?: MessageHeaders;
}

/** A batch's messages as the decoding thread needs them. */
export interface PackedMessages {
  topic: string;
  partition: number;
  /** Every message's value, one after another (a missing value is empty). */
  values: Uint8Array<ArrayBuffer>;
  /** Where each message's value ends in `values`. */
  ends: Uint32Array<ArrayBuffer>;
  offsets: string[];
  /** The headers of the messages that have any (a replayed dead letter's say where it came from), by index. */
  headers: [number, MessageHeaders][];
}

export interface DecodedRows {
  /** The valid messages' rows as COPY text. */
  rows: CopyRowsParts;
  /** The index of the message each row came from, row for row. */
  sources: Uint32Array<ArrayBuffer>;
  /** Each row's event time (ms since the epoch). */
  eventTimes: Float64Array<ArrayBuffer>;
  /** How many valid events of each action. */
  actions: [string, number][];
  /** The messages that are not valid events, and why: they become dead letters (stage `decode`). */
  deadLetters: { index: number; reason: string }[];
}

// A row of COPY text is about the size of the message plus its leading columns again.
const ROW_BYTES_PER_MESSAGE_BYTE = 1.5;

export function packMessages(topic: string, partition: number, messages: readonly MessageIn[]): PackedMessages {
  let total = 0;
  for (const message of messages) total += message.value?.length ?? 0;
  const values = Buffer.allocUnsafeSlow(total);
  const ends = new Uint32Array(messages.length);
  const offsets: string[] = new Array(messages.length);
  const headers: [number, MessageHeaders][] = [];
  let used = 0;
  messages.forEach((message, index) => {
    if (message.value) used += message.value.copy(values, used);
    ends[index] = used;
    offsets[index] = message.offset;
    if (message.headers && hasAny(message.headers)) headers.push([index, textHeaders(message.headers)]);
  });
  return { topic, partition, values: new Uint8Array(values.buffer, 0, used), ends, offsets, headers };
}

/** Without the array Object.keys would make for every message, though almost none has headers. */
function hasAny(headers: MessageHeaders): boolean {
  for (const _ in headers) return true;
  return false;
}

/** Header values as text: a Buffer would arrive on the other thread as a plain Uint8Array. */
function textHeaders(headers: MessageHeaders): MessageHeaders {
  const text: MessageHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) text[name] = Array.isArray(value) ? value.map(String) : value.toString();
  }
  return text;
}

export function decodeMessages({ topic, partition, values, ends, offsets, headers }: PackedMessages): DecodedRows {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const headersOf = new Map(headers);
  const writer = new CopyRowsWriter(bytes.length * ROW_BYTES_PER_MESSAGE_BYTE);
  const sources: number[] = [];
  const eventTimes: number[] = [];
  const deadLetters: DecodedRows['deadLetters'] = [];
  const actions = new Map<string, number>();
  for (let index = 0; index < ends.length; index++) {
    const value = bytes.toString('utf8', index === 0 ? 0 : ends[index - 1], ends[index]);
    const offset = offsets[index] as string;
    const result = decodeMessage({ topic, partition, offset, value, headers: headersOf.get(index) });
    if (!result.ok) {
      deadLetters.push({ index, reason: result.reason });
      continue;
    }
    const { row } = result;
    const eventTime = Date.parse(row.timestamp);
    writer.add(row, eventTime);
    sources.push(index);
    eventTimes.push(eventTime);
    actions.set(row.action, (actions.get(row.action) ?? 0) + 1);
  }
  return {
    rows: writer.finishParts(),
    sources: Uint32Array.from(sources),
    eventTimes: Float64Array.from(eventTimes),
    actions: [...actions],
    deadLetters,
  };
}
