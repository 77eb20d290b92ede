/**
 * Events ready to send, as the generator thread hands them over: each event's JSON in one buffer (moved
 * between threads without a copy), plus the few fields the logs and metrics need of each event.
 */
// Loaded by the generator thread: the schema module alone, not the Kafka and logging code.
import type { UserActionEvent } from '@user-actions/shared/event/schema';

/** What the generator thread says once it can generate. */
export const READY = 'ready';

/** One event as it is sent: its JSON, and what the logs and metrics need of it. */
export interface OutgoingEvent {
  eventId: string;
  userId: string;
  action: string;
  json: string;
}

/** An event made as an object (the original system's random events) as it is sent. */
export function outgoing(event: UserActionEvent): OutgoingEvent {
  return { eventId: event.EventId ?? '', userId: event.UserId, action: event.Action, json: JSON.stringify(event) };
}

export interface EventBatch {
  readonly length: number;
  readonly eventIds: string[];
  readonly userIds: string[];
  readonly actions: string[];
  /** Every event's JSON, one after another. */
  readonly json: Uint8Array<ArrayBuffer>;
  /** Where each event's JSON ends in `json`. */
  readonly ends: Uint32Array<ArrayBuffer>;
}

// Simulated events are about 380 bytes; room for the largest keeps a batch to a single allocation.
const EXPECTED_BYTES_PER_EVENT = 1_024;

export function encodeEvents(events: readonly OutgoingEvent[]): EventBatch {
  let json: Buffer = Buffer.allocUnsafeSlow(events.length * EXPECTED_BYTES_PER_EVENT);
  const ends = new Uint32Array(events.length);
  let used = 0;
  events.forEach((event, index) => {
    const text = event.json;
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    if (used + text.length * 3 > json.length) json = grown(json, used, text.length * 3);
    used += json.write(text, used);
    ends[index] = used;
  });
  return {
    length: events.length,
    eventIds: events.map((event) => event.eventId),
    userIds: events.map((event) => event.userId),
    actions: events.map((event) => event.action),
    json: new Uint8Array(json.buffer as ArrayBuffer, json.byteOffset, used),
    ends,
  };
}

function grown(buffer: Buffer, used: number, atLeast: number): Buffer {
  const bigger = Buffer.allocUnsafeSlow(Math.max(buffer.length * 2, used + atLeast));
  buffer.copy(bigger, 0, 0, used);
  return bigger;
}

/** The Kafka messages of a batch, keyed by user so that each user's events stay in order on one partition. */
export function messagesOf(batch: EventBatch): { key: string; value: Buffer }[] {
  const json = Buffer.from(batch.json.buffer, batch.json.byteOffset, batch.json.byteLength);
  return batch.userIds.map((userId, index) => ({
    key: userId,
    value: json.subarray(index === 0 ? 0 : batch.ends[index - 1], batch.ends[index]),
  }));
}
