/** Fakes for Kafka and PostgreSQL behind the exactly-once core's ports, and batches to store. */
import type { KafkaMessage } from 'kafkajs';
import { toCopyRows } from '../src/decoding/copy-rows.js';
import type { DeadLetter } from '../src/loading/dead-letter.js';
import type { BatchObserver, BatchPorts, DecodedBatch, PartitionBatch } from '../src/loading/store-batch.js';
export const abortError = () => Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });

export function batchOf(
  count: number,
  { firstOffset = 100, stale = (): boolean => false }: { firstOffset?: number; stale?: () => boolean } = {},
): PartitionBatch {
  const messages = Array.from({ length: count }, (_, index) => ({ offset: String(firstOffset + index) }) as KafkaMessage);
  return {
    topic: 'user-actions',
    partition: 3,
    messages,
    fetchedOffset: String(firstOffset),
    lastOffset: () => String(firstOffset + count - 1),
    highWatermark: String(firstOffset + count + 10),
    isStale: stale,
    heartbeat: async () => undefined,
  };
}

export function decodedOf(rows: number, deadLetters: DeadLetter[] = []): DecodedBatch {
  const row = (index: number) => ({
    eventId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    userId: '00000000-0000-4000-8000-000000000000',
    action: 'Login',
    ipAddress: null,
    device: null,
    timestamp: '2026-01-01T00:00:00Z',
    metadata: null,
  });
  return {
    rows: toCopyRows(Array.from({ length: rows }, (_, index) => row(index))),
    sources: Uint32Array.from({ length: rows }, (_, index) => index),
    eventTimes: new Float64Array(rows),
    deadLetters,
  };
}

/**
 * Ports that record every call in order, over a fake table whose offset for the partition is `stored`
 * (none: the partition has no offset yet); each can be replaced.
 */
export function fakes(overrides: Partial<BatchPorts> = {}, table: { stored?: bigint; logStart?: bigint } = { stored: 100n }) {
  const calls: string[] = [];
  const commits: string[] = [];
  const seeks: bigint[] = [];
  const sent: DeadLetter[] = [];
  const move = (from: bigint, to: bigint) => {
    if (table.stored !== undefined && table.stored !== from) return { moved: false as const, stored: table.stored };
    table.stored = to;
    return { moved: true as const };
  };
  const ports: BatchPorts = {
    async store(rows, at, withOffset) {
      calls.push(withOffset ? 'store with offset' : 'store');
      if (!withOffset) return { inserted: rows.length, expired: 0, deadLetters: [] };
      const moved = move(at.from, at.to);
      return { inserted: moved.moved ? rows.length : 0, expired: 0, deadLetters: [], move: moved };
    },
    async moveOffset(at) {
      calls.push('move');
      return move(at.from, at.to);
    },
    async deadLetter(deadLetters) {
      calls.push('dead-letter');
      sent.push(...deadLetters);
    },
    async commit(_topic, _partition, offset) {
      calls.push('commit');
      commits.push(offset);
    },
    logStart: async () => table.logStart ?? 0n,
    seek: (_topic, _partition, offset) => {
      calls.push('seek');
      seeks.push(offset);
    },
    guard: { record: (messages, deadLetters) => ({ tripped: false, messages, deadLetters, share: 0 }) },
    onLostEvents: 'stop',
    ...overrides,
  };
  const observed: Record<string, unknown[]> = { stored: [], committed: [], kafkaCommitFailed: [], movedTo: [], lost: [] };
  const observer: BatchObserver = {
    stored: (_batch, { inserted, redelivered }) => observed.stored?.push({ inserted, redelivered }),
    deadLettered: () => undefined,
    committed: (_batch, _times, next) => observed.committed?.push(next),
    kafkaCommitFailed: (_batch, _next, error) => observed.kafkaCommitFailed?.push(error.message),
    movedTo: (_batch, stored) => observed.movedTo?.push(stored),
    eventsLost: (_batch, from, to) => observed.lost?.push([from, to]),
  };
  return { ports, observer, calls, commits, seeks, sent, observed, table };
}

export const running = () => new AbortController().signal;

/** The batch's message at `index`, found not to be an event. */
export const undecodable = (batch: PartitionBatch, index: number): DeadLetter => ({
  topic: batch.topic,
  partition: batch.partition,
  message: batch.messages[index] as KafkaMessage,
  stage: 'decode',
  reason: 'not valid JSON',
});
