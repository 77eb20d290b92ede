/**
 * One Kafka batch (the messages of one partition from one fetch) into PostgreSQL, exactly once:
 * decode → insert every valid row in one transaction → dead-letter what cannot be stored → only then
 * commit the Kafka offset past the batch. A crash anywhere before the commit replays the batch, and the
 * unique event id turns the replay into a no-op. While a batch is stored, the next one of the same
 * partition is fetched and decoded (one batch ahead, no more), so Kafka and PostgreSQL work in parallel;
 * decoding runs on a thread of its own (batch-decoder.ts), so this thread only fetches, stores and commits.
 */
import {
  FatalError,
  isAbortError,
  isKafkaClientError,
  type KafkaMessageOut,
  type Logger,
  logRetries,
  type Readiness,
  type SummaryLog,
  toError,
  withRetry,
} from '@user-actions/shared';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { BatchDecoder } from './batch-decoder.js';
import { type CopyRows, copyRowsFrom } from './copy-text.js';
import { type DeadLetter, toDeadLetterMessage } from './dead-letter.js';
import type { DeadLetterGuard } from './dead-letter-guard.js';
import type { LoaderMetrics } from './metrics.js';
import { isTransientPgError, toFatalPgError } from './pg-errors.js';
import { storeIsolatingBadRows } from './store.js';

export type LoaderCounter = 'stored' | 'replayed' | 'deadLettered' | 'retried';

export interface BatchHandlerDeps {
  logger: Logger;
  decoder: BatchDecoder;
  /** Aborted on shutdown or after a fatal error: stop retrying and leave the batch uncommitted. */
  signal: AbortSignal;
  insertRows: (rows: CopyRows) => Promise<number>;
  /** Resolves once the broker has acknowledged every message, retrying until the signal aborts. */
  sendDeadLetters: (messages: KafkaMessageOut[], signal: AbortSignal) => Promise<void>;
  commitOffset: (topic: string, partition: number, nextOffset: string) => Promise<void>;
  guard: DeadLetterGuard;
  /** Give up (fatally) when PostgreSQL stays unreachable this long; 0 waits forever. */
  maxOutageMs: number;
  onFatal: (error: Error) => void;
  summary: SummaryLog<LoaderCounter>;
  metrics: LoaderMetrics;
  /** Its `postgres` condition is unmet while inserts fail. */
  readiness: Readiness;
}

interface DecodedBatch {
  rows: CopyRows;
  /** The index in the batch of the message each row came from, row for row. */
  sources: Uint32Array;
  /** Each row's event time (ms since the epoch), for the event-to-commit delay. */
  eventTimes: Float64Array;
  deadLetters: DeadLetter[];
}

// kafkajs throttles heartbeats to its heartbeatInterval; this only has to be more frequent than that.
const HEARTBEAT_EVERY_MS = 1_000;

export interface BatchPipeline {
  /**
   * kafkajs' `eachBatch`: decodes the batch and starts storing it, then returns once the partition's
   * previous batch is committed, so that kafkajs fetches the next batch while this one is stored.
   */
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /** Resolves once every batch started is committed or abandoned (after the signal aborts). */
  drain(): Promise<void>;
}

export function createBatchPipeline(deps: BatchHandlerDeps): BatchPipeline {
  // Per partition, the store-and-commit of its newest batch; each batch waits for the one before it,
  // so offsets are committed in order and only past stored rows.
  const pending = new Map<string, Promise<void>>();

  return {
    async eachBatch(payload) {
      const { batch } = payload;
      if (batch.isEmpty() || deps.signal.aborted || payload.isStale()) return;
      let decoded: DecodedBatch;
      try {
        decoded = await decodeBatch(payload, deps);
      } catch (caught) {
        deps.onFatal(new FatalError(toError(caught).message, { cause: caught }));
        return;
      }
      // Left uncommitted: whoever consumes the partition next decodes the batch again.
      if (deps.signal.aborted || payload.isStale()) return;
      deps.metrics.batchSize.observe(batch.messages.length);

      const key = `${batch.topic}/${batch.partition}`;
      const previous = pending.get(key) ?? Promise.resolve();
      const current = previous.then(() => storeAndCommit(payload, decoded, deps));
      pending.set(key, current);
      void current.then(() => {
        if (pending.get(key) === current) pending.delete(key);
      });
      // Only moves kafkajs' fetch position; the committed offset moves after the rows are stored.
      payload.resolveOffset(batch.lastOffset());
      await previous;
    },
    async drain() {
      await Promise.all(pending.values());
    },
  };
}

/** Never rejects: a failure either leaves the batch uncommitted (it is replayed) or is fatal. */
async function storeAndCommit(payload: EachBatchPayload, decoded: DecodedBatch, deps: BatchHandlerDeps): Promise<void> {
  const { batch } = payload;
  if (deps.signal.aborted) return;
  try {
    const { inserted, refused } = await whileHeartbeating(payload, () =>
      storeIsolatingBadRows(decoded.rows, (rows) => insertWithRetry(rows, payload, deps)),
    );
    const replayed = decoded.rows.length - inserted - refused.length;
    deps.summary.add('stored', inserted);
    deps.summary.add('replayed', replayed);
    deps.metrics.stored.inc(inserted);
    deps.metrics.replayed.inc(replayed);
    for (const { index, reason } of refused) {
      const message = batch.messages[decoded.sources[index] as number] as KafkaMessage;
      decoded.deadLetters.push({ topic: batch.topic, partition: batch.partition, message, stage: 'store', reason });
    }
    if (!passesGuard(batch.messages.length, decoded.deadLetters, deps)) return;
    await sendDeadLetters(decoded.deadLetters, deps);
  } catch (caught) {
    const error = toError(caught);
    if (!isAbortError(error)) deps.onFatal(classifyFailure(error, deps.maxOutageMs));
    return;
  }

  // After a rebalance another member owns the partition and will replay the batch (harmlessly).
  if (payload.isStale()) return;
  const nextOffset = BigInt(batch.lastOffset()) + 1n;
  try {
    await deps.commitOffset(batch.topic, batch.partition, nextOffset.toString());
  } catch (caught) {
    // The rows are stored; whoever owns the partition next replays the batch as no-ops.
    deps.logger.warn(
      { partition: batch.partition, offset: nextOffset.toString(), reason: toError(caught).message },
      'offset commit failed',
    );
    return;
  }
  observeCommitted(decoded.eventTimes, Number(BigInt(batch.highWatermark) - nextOffset), batch.partition, deps.metrics);
}

function observeCommitted(eventTimes: Float64Array, lag: number, partition: number, metrics: LoaderMetrics): void {
  const now = Date.now();
  for (const eventTime of eventTimes) metrics.eventDelaySeconds.observe(Math.max(0, (now - eventTime) / 1000));
  metrics.lag.set({ partition: String(partition) }, Math.max(0, lag));
}

async function decodeBatch({ batch }: EachBatchPayload, { decoder, metrics }: BatchHandlerDeps): Promise<DecodedBatch> {
  const { topic, partition, messages } = batch;
  const { rows, sources, eventTimes, actions, rejects } = await decoder.decode(topic, partition, messages);
  for (const [action, count] of actions) metrics.consumed.inc({ action }, count);
  const deadLetters: DeadLetter[] = rejects.map(({ index, reason }) => ({
    topic,
    partition,
    message: messages[index] as KafkaMessage,
    stage: 'decode',
    reason,
  }));
  return { rows: copyRowsFrom(rows), sources, eventTimes, deadLetters };
}

async function insertWithRetry(rows: CopyRows, payload: EachBatchPayload, deps: BatchHandlerDeps): Promise<number> {
  const logUnavailable = logRetries(
    deps.logger,
    'PostgreSQL unavailable; the batch will be retried and its offset is not committed',
    { partition: payload.batch.partition, rows: rows.length },
  );
  const timedInsert = async () => {
    const stopTimer = deps.metrics.insertSeconds.startTimer();
    const inserted = await deps.insertRows(rows);
    stopTimer();
    deps.readiness.met('postgres');
    return inserted;
  };
  return withRetry(timedInsert, {
    isRetryable: isTransientPgError,
    signal: deps.signal,
    ...(deps.maxOutageMs > 0 ? { maxElapsedMs: deps.maxOutageMs } : {}),
    onRetry: (error, attempt, delayMs) => {
      deps.summary.add('retried');
      deps.metrics.retried.inc();
      deps.readiness.unmetBecause('postgres', `PostgreSQL unavailable: ${error.message}`);
      logUnavailable(error, attempt, delayMs);
    },
  });
}

/** Keeps the group membership alive while slow work runs (a long outage, a locked table). */
async function whileHeartbeating<T>(payload: EachBatchPayload, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    // A failed heartbeat means a rebalance: the offset commit after the work will say so too.
    payload.heartbeat().catch(() => undefined);
  }, HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

function passesGuard(messages: number, deadLetters: readonly DeadLetter[], deps: BatchHandlerDeps): boolean {
  const verdict = deps.guard.record(messages, deadLetters.length);
  if (!verdict.tripped) return true;
  deps.onFatal(
    new FatalError(
      `${verdict.deadLetters} of the last ${verdict.messages} messages could not be stored, more than DLQ_MAX_RATIO allows; ` +
        'check KAFKA_TOPIC and the producers. The batch that tripped this was not committed.',
    ),
  );
  return false;
}

async function sendDeadLetters(deadLetters: readonly DeadLetter[], deps: BatchHandlerDeps): Promise<void> {
  if (deadLetters.length === 0) return;
  for (const { topic, partition, message, stage, reason } of deadLetters) {
    deps.logger.warn(
      { topic, partition, offset: message.offset, stage, reason },
      'dead-lettered a message that cannot be stored',
    );
  }
  await deps.sendDeadLetters(
    deadLetters.map((deadLetter) => toDeadLetterMessage(deadLetter)),
    deps.signal,
  );
  deps.summary.add('deadLettered', deadLetters.length);
  for (const { stage } of deadLetters) deps.metrics.deadLettered.inc({ stage });
}

function classifyFailure(error: Error, maxOutageMs: number): Error {
  if (error instanceof FatalError) return error;
  if (isTransientPgError(error)) {
    return new FatalError(`PostgreSQL stayed unreachable for longer than MAX_OUTAGE_MS (${maxOutageMs} ms)`, { cause: error });
  }
  if (isKafkaClientError(error)) {
    return new FatalError(`the dead-letter topic refused a message: ${error.message}`, { cause: error });
  }
  return toFatalPgError(error);
}
