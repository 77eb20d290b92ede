/**
 * Turns one Kafka message into the row to store, or into the exact reason it cannot be stored.
 * Pure: no I/O, so every rule has a unit test.
 */
// The schema alone: the decoding thread loads this module and should not load the Kafka and logging code.

import type { UserActionRow } from '@user-actions/shared/event/columns';
import { parseUserActionEvent, type UserActionEvent } from '@user-actions/shared/event/schema';
import { v5 as uuidv5 } from 'uuid';
import { readCanonicalEvent } from './canonical-event.js';
import { type MessageHeaders, originOf } from './message-origin.js';

export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  /** The message's bytes, or already its text. */
  value: Buffer | string | null;
  headers?: MessageHeaders;
}

export type Decoded = { ok: true; row: UserActionRow } | { ok: false; reason: string };

// Fixed forever: changing it would give already-stored seed-format messages new ids on replay.
const KAFKA_POSITION_NAMESPACE = '6f1d5c0e-3b8a-4f5e-9c27-8a1e4b7d2c90';

/**
 * The id of a message that carries no `EventId` (the original producer's format): a name-based UUID of
 * where it first sat in Kafka, so a redelivery (or a replay from the dead-letter topic) gets the same id.
 */
export function deriveEventId(topic: string, partition: number, offset: string): string {
  return uuidv5(`${topic}/${partition}/${offset}`, KAFKA_POSITION_NAMESPACE);
}

function derivedEventIdOf(message: SourceMessage): string {
  const origin = originOf(message, message.headers);
  return deriveEventId(origin.topic, origin.partition, origin.offset);
}

export function decodeMessage(message: SourceMessage): Decoded {
  const text = typeof message.value === 'string' ? message.value : (message.value?.toString() ?? '');
  const canonical = readCanonicalEvent(text);
  if (canonical) return { ok: true, row: toRow(canonical.event, canonical.metadataText, message) };
  const parsed = parseUserActionEvent(text);
  if (!parsed.ok) return parsed;
  const { event } = parsed;
  return { ok: true, row: toRow(event, event.Metadata ? JSON.stringify(event.Metadata) : null, message) };
}

function toRow(event: UserActionEvent, metadata: string | null, message: SourceMessage): UserActionRow {
  return {
    eventId: event.EventId ?? derivedEventIdOf(message),
    userId: event.UserId,
    action: event.Action,
    ipAddress: event.Metadata?.IpAddress ?? null,
    device: event.Metadata?.Device ?? null,
    timestamp: event.Timestamp,
    metadata,
  };
}
