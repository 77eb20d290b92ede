/**
 * One batch into PostgreSQL, exactly once. PostgreSQL keeps each partition's offset beside the rows, and
 * a batch is stored only where it continues the table: its rows and the offset's move from where it was
 * fetched to past its last message commit in one transaction, which fails (and stores nothing) when the
 * table's offset is elsewhere; the consumer then goes back (or forward) to where the table says. So a
 * database that lost its latest commits (a failover, a restore) is refilled from Kafka, and a redelivered
 * batch costs nothing: the unique event id skips its rows. Dead letters are sent before the offset moves
 * past them. Kafka's committed offset follows, for lag tools, and is never trusted over the table.
 *
 * This module knows neither Kafka nor PostgreSQL: it talks to them through the ports below, so each rule
 * has a unit test of its own.
 */
import { FATAL_CODES, FatalError, isAbortError, toError } from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import type { CopyRows } from '../decoding/copy-rows.js';
import type { StoreOutcome } from './batch-store.js';
import type { DeadLetter } from './dead-letter.js';
import type { GuardVerdict } from './dead-letter-guard.js';
import type { MoveResult, OffsetMove } from './postgres-port.js';

/** The messages of one partition from one fetch, as far as storing them needs. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: readonly KafkaMessage[];
  /** The offset the fetch asked for: where the batch starts in the partition, whatever its first message. */
  fetchedOffset: string;
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
  /**
   * Stores the rows, retrying transient failures until the signal aborts; a FatalError when it cannot.
   * With `withOffset`, the offset moves in the rows' transaction (the outcome's `move`), unless rows had
   * to be set aside.
   */
  store(rows: CopyRows, at: OffsetMove, withOffset: boolean, signal: AbortSignal): Promise<StoreOutcome>;
  /** Moves the stored offset on its own, retrying like `store`. */
  moveOffset(move: OffsetMove, signal: AbortSignal): Promise<MoveResult>;
  /** Resolves once the dead-letter topic holds every one; a FatalError when it refuses them. */
  deadLetter(deadLetters: readonly DeadLetter[], signal: AbortSignal): Promise<void>;
  /** Kafka's committed offset, which follows PostgreSQL's for lag tools. */
  commit(topic: string, partition: number, nextOffset: string): Promise<void>;
  /** The oldest offset Kafka still holds in the partition (retention deletes the ones before). */
  logStart(topic: string, partition: number, signal: AbortSignal): Promise<bigint>;
  /** Fetches the partition from `offset` next; the batches fetched before become stale. */
  seek(topic: string, partition: number, offset: bigint): void;
  /** Judges the share of dead letters among recent messages. */
  guard: { record(messages: number, deadLetters: number): GuardVerdict };
  /** When events PostgreSQL lost are gone from Kafka too: stop, or go on from the log start (ON_LOST_EVENTS). */
  onLostEvents: 'stop' | 'continue';
}

/** What happened to a batch, for metrics and logs; none of it decides anything. */
export interface BatchObserver {
  /** New rows, events already stored, and events older than the retention window (skipped). */
  stored(batch: PartitionBatch, counts: { inserted: number; redelivered: number; expired: number }): void;
  deadLettered(deadLetters: readonly DeadLetter[]): void;
  committed(batch: PartitionBatch, eventTimes: Float64Array, nextOffset: bigint): void;
  /** Kafka's copy of the offset could not follow; harmless, as PostgreSQL's is the one trusted. */
  kafkaCommitFailed(batch: PartitionBatch, nextOffset: bigint, error: Error): void;
  /** The batch did not continue the table: the partition is read again from `stored`. */
  movedTo(batch: PartitionBatch, stored: bigint): void;
  /** PostgreSQL's offset is below the log start: events `from` to `to` - 1 are gone from both. */
  eventsLost(batch: PartitionBatch, from: bigint, to: bigint): void;
}

export type BatchOutcome =
  | { kind: 'committed' }
  /** Left uncommitted on purpose: whoever consumes the partition next stores it again, harmlessly. */
  | { kind: 'abandoned'; why: 'stopping' | 'partition reassigned' | 'moved to the stored offset' | 'events lost' }
  /** The consumer cannot go on (a FatalError, or a defect reported whole); the batch is uncommitted. */
  | { kind: 'failed'; error: Error };

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
  if (batch.isStale()) return { kind: 'abandoned', why: 'partition reassigned' };
  const at: OffsetMove = {
    topic: batch.topic,
    partition: batch.partition,
    from: BigInt(batch.fetchedOffset),
    to: BigInt(batch.lastOffset()) + 1n,
  };
  try {
    // Dead letters known before storing must reach their topic before the offset passes them.
    const withOffset = decoded.deadLetters.length === 0;
    const stored = await whileHeartbeating(batch, () => ports.store(decoded.rows, at, withOffset, signal));
    if (stored.move?.moved === false) return await moveTo(stored.move.stored, batch, ports, observer, signal);
    const { inserted, expired } = stored;
    const redelivered = decoded.rows.length - inserted - expired - stored.deadLetters.length;
    observer.stored(batch, { inserted, redelivered, expired });
    const deadLetters = [
      ...decoded.deadLetters,
      ...stored.deadLetters.map(({ index, reason }) => badRow(batch, decoded, index, reason)),
    ];
    const verdict = ports.guard.record(batch.messages.length, deadLetters.length);
    if (verdict.tripped) return { kind: 'failed', error: guardTripped(verdict) };
    if (deadLetters.length > 0) {
      await ports.deadLetter(deadLetters, signal);
      observer.deadLettered(deadLetters);
    }
    if (stored.move === undefined) {
      const moved = await ports.moveOffset(at, signal);
      if (!moved.moved) return await moveTo(moved.stored, batch, ports, observer, signal);
    }
  } catch (caught) {
    return failedOrStopped(caught);
  }

  try {
    await ports.commit(batch.topic, batch.partition, at.to.toString());
  } catch (caught) {
    observer.kafkaCommitFailed(batch, at.to, toError(caught));
  }
  observer.committed(batch, decoded.eventTimes, at.to);
  return { kind: 'committed' };
}

/**
 * The batch did not start where PostgreSQL's offset is: read the partition again from there, unless
 * Kafka no longer holds it (then the policy decides).
 */
async function moveTo(
  stored: bigint,
  batch: PartitionBatch,
  ports: BatchPorts,
  observer: BatchObserver,
  signal: AbortSignal,
): Promise<BatchOutcome> {
  if (batch.isStale()) return { kind: 'abandoned', why: 'partition reassigned' };
  // No check against the batch's high watermark: a partition's new leader reports a lower one for a
  // while after a broker leaves, and the table's offset is then rightly past it.
  const { topic, partition } = batch;
  const logStart = await ports.logStart(topic, partition, signal);
  if (stored >= logStart) {
    observer.movedTo(batch, stored);
    ports.seek(topic, partition, stored);
    return { kind: 'abandoned', why: 'moved to the stored offset' };
  }
  observer.eventsLost(batch, stored, logStart);
  if (ports.onLostEvents === 'stop') {
    return {
      kind: 'failed',
      error: new FatalError(
        `${logStart - stored} events of ${topic} partition ${partition} (offsets ${stored} to ${logStart - 1n}) are missing ` +
          "from PostgreSQL and Kafka's retention has deleted them; set ON_LOST_EVENTS=continue to go on without them",
        { code: FATAL_CODES.eventsLost },
      ),
    };
  }
  const moved = await ports.moveOffset({ topic, partition, from: stored, to: logStart }, signal);
  ports.seek(topic, partition, moved.moved ? logStart : moved.stored);
  return { kind: 'abandoned', why: 'events lost' };
}

function failedOrStopped(caught: unknown): BatchOutcome {
  const error = toError(caught);
  if (isAbortError(error)) return { kind: 'abandoned', why: 'stopping' };
  return { kind: 'failed', error };
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
