/**
 * The consumer-group side of the loader: joins `KAFKA_GROUP_ID`, feeds each batch to the batch handler,
 * and stops in order (stop fetching → let the batches being stored finish or abandon them → leave the group).
 */

import {
  classify,
  connectWithRetry,
  createKafka,
  createReliableProducer,
  ensureTopic,
  isAbortError,
  isRetryable,
  kafkaVerdict,
  LOG_EVENT,
  type Logger,
  logRetries,
  type Readiness,
  runShutdownSteps,
  STOPPING,
  startSummaryLog,
  toError,
  untilAborted,
  withRetry,
} from '@user-actions/shared';
import type { ConsumerConfig } from '../config.js';
import type { LoaderMetrics } from '../metrics.js';
import { CONDITIONS } from '../readiness-conditions.js';
import { createBatchStore } from '../storing/batch-store.js';
import { insertRows, type Pool } from '../storing/db.js';
import { moveOffset, readStoredOffsets } from '../storing/offsets.js';
import { retentionCutoff } from '../storing/partition-layout.js';
import type { TableSql } from '../storing/sql.js';
import { startBatchDecoder } from './batch-decoder.js';
import { createBatchObserver, type LoaderCounter, storedOffsetObserver } from './batch-observer.js';
import { disconnectWithin, seekPartition } from './client-calls.js';
import { deadLetterSender } from './dead-letter.js';
import { DeadLetterGuard } from './dead-letter-guard.js';
import { createKafkaBatches } from './kafka-batches.js';
import { watchKafkaAnswers } from './kafka-watchdog.js';
import { trackLag } from './lag-tracker.js';
import { watchStoredOffsets } from './stored-offset-watch.js';

export interface Loader {
  /** Rejects with the error that makes the loader unable to go on (the daemon then exits non-zero). */
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

// Batches from this many partitions are stored at once; matches the PostgreSQL pool size.
const PARTITIONS_CONSUMED_CONCURRENTLY = 4;
// With the next batch fetched while one is stored and decoding on its own thread, fetches of 2 MiB
// (1 MiB, about 2,700 events, from any one partition) drain a backlog faster than fetches of 3–6 MiB
// and keep the consumer's memory well under 250 MB whatever the backlog (docs/benchmarks.md).
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_BYTES_PER_FETCH = 2 * 1024 * 1024;
// How long the coordinator may hold a join for the members to rejoin (kafkajs' default, stated).
const REBALANCE_TIMEOUT_MS = 60_000;
// kafkajs' disconnect waits for the requests in flight: on a silent broker, up to the request timeout,
// and mid-rebalance for the join the coordinator holds. The admin client's requests (a lag refresh, a log
// start) are of no use once stopping; leaving the group only spares the others a session timeout, and the
// offsets are safe in PostgreSQL either way, so both are bounded to keep the stop within its grace.
const ADMIN_DISCONNECT_MS = 1_000;
const LEAVE_GROUP_MS = 3_000;

export interface LoaderOps {
  metrics: LoaderMetrics;
  /** Its `kafka` condition is met while the consumer is in its group; the batch store keeps `postgres`. */
  readiness: Readiness;
}

export async function startLoader(
  config: ConsumerConfig,
  { pool, sql }: { pool: Pool; sql: TableSql },
  logger: Logger,
  signal: AbortSignal,
  { metrics, readiness }: LoaderOps,
): Promise<Loader> {
  const kafka = createKafka(config, logger);
  const halt = new AbortController();
  const { promise: failed, reject } = Promise.withResolvers<never>();
  const fail = (error: Error) => {
    halt.abort();
    reject(error);
  };
  failed.catch(() => undefined); // observed by the daemon; never an unhandled rejection

  const admin = kafka.admin();
  await connectWithRetry(() => admin.connect(), config, logger, signal);
  // Kept connected: the partitions' log starts are asked for when PostgreSQL's offset is behind a batch.
  try {
    const { topic, topicPartitions: partitions, topicRetentionMs: retentionMs } = config;
    await ensureTopic(admin, { topic, partitions, retentionMs }, { logger, signal });
    const deadLetters = { topic: config.deadLetterTopic, partitions: 1, retentionMs: config.deadLetterRetentionMs };
    await ensureTopic(admin, deadLetters, { logger, signal });
  } catch (error) {
    await admin.disconnect();
    throw error;
  }

  const deadLetterProducer = createReliableProducer(config, logger);
  await connectWithRetry(() => deadLetterProducer.connect(), config, logger, signal).catch(async (error: unknown) => {
    await admin.disconnect();
    throw error;
  });

  const consumer = kafka.consumer({
    groupId: config.groupId,
    // Slow batches keep heartbeating (see store-batch.ts), so a short session only shortens how long a
    // crashed consumer's partitions wait for a new owner.
    sessionTimeout: config.sessionTimeoutMs,
    heartbeatInterval: Math.floor(config.sessionTimeoutMs / 10),
    rebalanceTimeout: REBALANCE_TIMEOUT_MS,
    // A short fetch wait keeps shutdown quick: leaving the group waits for the fetch in flight.
    maxWaitTimeInMs: 1_000,
    maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
    maxBytes: MAX_BYTES_PER_FETCH,
  });
  const summary = startSummaryLog<LoaderCounter>(logger, {
    intervalMs: config.summaryIntervalMs,
    message: 'loader summary',
    event: LOG_EVENT.loaderSummary,
    notReady: readiness.check,
  });
  const running = AbortSignal.any([signal, halt.signal]);
  const lag = trackLag({
    gauge: metrics.lag,
    endOffsets: async () =>
      new Map((await admin.fetchTopicOffsets(config.topic)).map(({ partition, high }) => [partition, BigInt(high)])),
    onRefreshFailed: (error) => logger.debug({ err: toError(error) }, "could not read the partitions' ends for the lag"),
    brokerAnswers: () => readiness.isMet(CONDITIONS.kafkaAnswers),
  });
  // PostgreSQL's offsets, not Kafka's, say where each partition starts, and find a table that went back
  // while its partitions had nothing new to fetch.
  const storedOffsets = watchStoredOffsets({
    positions: lag,
    readStored: async () => {
      metrics.storedOffsetReads.inc();
      return pool.guard.run('batch', (client) => readStoredOffsets(client, sql, config.groupId, config.topic));
    },
    seek: (partition, offset) => seekPartition(consumer, config.topic, partition, offset),
    observer: storedOffsetObserver(logger, config.topic, metrics),
  });
  // Once PostgreSQL is back after it was lost, whichever server answers may have lost commits.
  const recheckStoredOffsets = () => storedOffsets.checkAll();
  pool.on('error', recheckStoredOffsets);
  const batchStore = createBatchStore({
    insertRows: (rows, move) =>
      insertRows(pool, sql, rows, {
        ...(move && { move: { groupId: config.groupId, ...move } }),
        ...(config.partitions?.retention && { cutoff: retentionCutoff(config.partitions.retention, new Date()) }),
      }),
    moveOffset: (move) => pool.guard.run('batch', (client) => moveOffset(client, sql, config.groupId, move)),
    maxOutageMs: config.maxOutageMs,
    logger,
    summary,
    metrics,
    readiness,
    recovered: recheckStoredOffsets,
  });
  const deadLetterGuard = new DeadLetterGuard({ maxRatio: config.deadLetterMaxRatio, window: config.deadLetterWindow });
  metrics.deadLetterShareLimit.set(config.deadLetterMaxRatio);
  const decoder = startBatchDecoder();
  metrics.threads.watch('decoder', decoder.utilization);
  const batches = createKafkaBatches({
    decoder,
    signal: running,
    onFatal: fail,
    observer: createBatchObserver(logger, summary, metrics, lag),
    ports: {
      ...batchStore,
      deadLetter: deadLetterSender(deadLetterProducer, config.deadLetterTopic),
      commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
      logStart: (topic, partition, abort) =>
        withRetry(
          async () => {
            const offsets = await admin.fetchTopicOffsets(topic);
            return BigInt(offsets.find((offset) => offset.partition === partition)?.low ?? 0);
          },
          {
            verdictOf: kafkaVerdict,
            signal: abort,
            onRetry: logRetries(logger, 'cannot read the log start yet', { topic }),
          },
        ),
      seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
      onLostEvents: config.onLostEvents,
      guard: {
        record(messages, deadLetters) {
          const verdict = deadLetterGuard.record(messages, deadLetters);
          metrics.deadLetterShare.set(verdict.share);
          return verdict;
        },
      },
    },
  });
  // Every part started so far, stopped in order: on a failure while starting, and at shutdown.
  const stopParts = () =>
    runShutdownSteps(logger, [
      // Commits need the consumer: let the batches being stored finish first.
      ['finish the batches being stored', () => batches.drain()],
      ['stop the decoding thread', () => decoder.stop()],
      ['stop watching for answers from Kafka', async () => watchdog?.stop()],
      ['stop tracking the lag', async () => lag.stop()],
      [
        'stop watching the stored offsets',
        async () => {
          storedOffsets.stop();
          pool.off('error', recheckStoredOffsets);
        },
      ],
      ['leave the consumer group', () => disconnectWithin(consumer, LEAVE_GROUP_MS, logger, 'the consumer group')],
      ['disconnect the dead-letter producer', () => deadLetterProducer.disconnect()],
      ['disconnect the admin client', () => disconnectWithin(admin, ADMIN_DISCONNECT_MS, logger, 'the admin client')],
      ['log the last summary', async () => summary.stop()],
    ]);
  const startConsuming = async () => {
    await connectWithRetry(() => consumer.connect(), config, logger, running);
    await withRetry(() => consumer.subscribe({ topics: [config.topic], fromBeginning: true }), {
      verdictOf: kafkaVerdict,
      signal: running,
      onRetry: logRetries(logger, 'cannot subscribe yet', { topic: config.topic }),
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_CONSUMED_CONCURRENTLY,
      eachBatch: batches.eachBatch,
    });
  };

  let watchdog: { stop(): void } | undefined;
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const partitions = payload.memberAssignment[config.topic] ?? [];
    logger.info({ groupId: payload.groupId, memberId: payload.memberId, partitions }, 'joined consumer group');
    readiness.met(CONDITIONS.kafka);
    lag.assigned(partitions);
    watchdog ??= watchKafkaAnswers(consumer, readiness, {
      sessionTimeoutMs: config.sessionTimeoutMs,
      rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
    });
    storedOffsets.checkAll();
  });
  // kafkajs restarts itself after most failures, but gives up on some it calls permanent, such as no
  // group coordinator while a broker is away for a while. Those that are transient for us start the
  // consumer again from its committed offsets.
  consumer.on(consumer.events.CRASH, ({ payload: { error, restart } }) => {
    readiness.unmetBecause(CONDITIONS.kafka, `Kafka consumer failed: ${error.message}`);
    if (restart) {
      logger.warn({ err: error }, 'Kafka consumer failed; kafkajs restarts it');
      return;
    }
    if (halt.signal.aborted) return;
    const failure = classify(error, kafkaVerdict);
    if (!isRetryable(failure, kafkaVerdict)) {
      fail(failure);
      return;
    }
    logger.warn({ err: error }, 'the Kafka consumer stopped; starting it again');
    startConsuming().catch((caught: unknown) => {
      if (!isAbortError(caught)) fail(toError(caught));
    });
  });
  try {
    // kafkajs' run() returns after the first join, which the coordinator may hold for as long as a
    // killed member's session lasts: a stop meanwhile does not wait for it.
    const started = startConsuming();
    started.catch(() => undefined); // a failure after a stop is of no interest
    await Promise.race([started, untilAborted(running).then(() => running.throwIfAborted())]);
  } catch (error) {
    halt.abort();
    await stopParts().catch(() => undefined); // the start's own failure is the one to report
    throw error;
  }
  logger.info(
    { event: LOG_EVENT.consuming, topic: config.topic, groupId: config.groupId, deadLetterTopic: config.deadLetterTopic },
    'consuming',
  );

  let stopping: Promise<void> | undefined;
  return {
    failed,
    stop() {
      stopping ??= (async () => {
        halt.abort();
        readiness.unmetBecause(CONDITIONS.kafka, STOPPING);
        await stopParts();
      })();
      return stopping;
    },
  };
}
