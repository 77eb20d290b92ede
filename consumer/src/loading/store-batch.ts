/**
 * One batch into PostgreSQL, exactly once: store every valid row → dead-letter what cannot be stored →
 * only then commit the Kafka offset past the batch. A crash anywhere before the commit redelivers the
 * batch, and the unique event id turns the redelivery into a no-op. This module knows neither Kafka
 * nor PostgreSQL: it talks to them through the ports below, so each rule has a unit test of its own.
 */
import { FATAL_CODES, FatalError, isAbortError, toError } from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import type { CopyRows } from '../storing/copy-text.js';
import type { StoreResult } from '../storing/isolate-bad-rows.js';
import type { DeadLetter } from './dead-letter.js';
import type { GuardVerdict } from './dead-letter-guard.js';

/** The messages of one partition from one fetch, as far as storing them needs. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  lastOffset(): string;
  highWatermark: string;
  /** True once the partition belongs to another consumer (after a rebalance). */
  isStale(): boolean;
  /** Keeps the group membership alive while slow work runs. */
  heartbeat(): Promise<void>;
}

export interface DecodedBatch {
  rows: CopyRows;
  /** The index in the batch of the message each row came from, row for row. */
  sources: Uint32Array;
  /** Each row's event time (ms since the epoch), for the event-to-commit delay. */
  eventTimes: Float64Array;
  /** The messages already known not to be events. */
  deadLetters: DeadLetter[];
}

export interface BatchPorts {
  /** Stores the rows, retrying transient failures until the signal aborts; a FatalError when it cannot. */
  store(rows: CopyRows, partition: number, signal: AbortSignal): Promise<StoreResult>;
  /** Resolves once the dead-letter topic holds every one; a FatalError when it refuses them. */
  deadLetter(deadLetters: readonly DeadLetter[], signal: AbortSignal): Promise<void>;
  commit(topic: string, partition: number, nextOffset: string): Promise<void>;
  /** Judges the share of dead letters among recent messages. */
  guard: { record(messages: number, deadLetters: number): GuardVerdict };
}

/** What happened to a batch, for metrics and logs; none of it decides anything. */
export interface BatchObserver {
  stored(batch: PartitionBatch, inserted: number, redelivered: number): void;
  deadLettered(deadLetters: readonly DeadLetter[]): void;
  committed(batch: PartitionBatch, eventTimes: Float64Array, nextOffset: bigint): void;
  commitFailed(batch: PartitionBatch, nextOffset: bigint, error: Error): void;
}

export type BatchOutcome =
  | { kind: 'committed' }
  /** Left uncommitted on purpose: whoever consumes the partition next stores it again, harmlessly. */
  | { kind: 'abandoned'; why: 'stopping' | 'partition reassigned' | 'commit failed' }
  /** The consumer cannot go on; the batch is uncommitted. */
  | { kind: 'failed'; error: FatalError };

// kafkajs throttles heartbeats to its heartbeatInterval; this only has to be more frequent than that.
const HEARTBEAT_EVERY_MS = 1_000;

export async function storeBatch(
  batch: PartitionBatch,
  decoded: DecodedBatch,
  ports: BatchPorts,
  observer: BatchObserver,
  signal: AbortSignal,
): Promise<BatchOutcome> {
  if (signal.aborted) return { kind: 'abandoned', why: 'stopping' };
  try {
    const { inserted, deadLetters: badRows } = await whileHeartbeating(batch, () =>
      ports.store(decoded.rows, batch.partition, signal),
    );
    observer.stored(batch, inserted, decoded.rows.length - inserted - badRows.length);
    const deadLetters = [...decoded.deadLetters, ...badRows.map(({ index, reason }) => badRow(batch, decoded, index, reason))];
    const verdict = ports.guard.record(batch.messages.length, deadLetters.length);
    if (verdict.tripped) return { kind: 'failed', error: guardTripped(verdict) };
    if (deadLetters.length > 0) {
      await ports.deadLetter(deadLetters, signal);
      observer.deadLettered(deadLetters);
    }
  } catch (caught) {
    const error = toError(caught);
    if (isAbortError(error)) return { kind: 'abandoned', why: 'stopping' };
    const fatal =
      error instanceof FatalError ? error : new FatalError(error.message, { code: FATAL_CODES.unexpected, cause: error });
    return { kind: 'failed', error: fatal };
  }

  if (batch.isStale()) return { kind: 'abandoned', why: 'partition reassigned' };
  const nextOffset = BigInt(batch.lastOffset()) + 1n;
  try {
    await ports.commit(batch.topic, batch.partition, nextOffset.toString());
  } catch (caught) {
    observer.commitFailed(batch, nextOffset, toError(caught));
    return { kind: 'abandoned', why: 'commit failed' };
  }
  observer.committed(batch, decoded.eventTimes, nextOffset);
  return { kind: 'committed' };
}

function badRow(batch: PartitionBatch, decoded: DecodedBatch, row: number, reason: string): DeadLetter {
  const message = batch.messages[decoded.sources[row] as number] as KafkaMessage;
  return { topic: batch.topic, partition: batch.partition, message, stage: 'store', reason };
}

function guardTripped(verdict: GuardVerdict): FatalError {
  return new FatalError(
    `${verdict.deadLetters} of the last ${verdict.messages} messages could not be stored, more than DLQ_MAX_RATIO allows; ` +
      'check KAFKA_TOPIC and the producers. The batch that tripped this was not committed.',
    { code: FATAL_CODES.deadLetterGuard },
  );
}

async function whileHeartbeating<T>(batch: PartitionBatch, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    // A failed heartbeat means a rebalance: the batch is then found stale before its commit.
    batch.heartbeat().catch(() => undefined);
  }, HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
