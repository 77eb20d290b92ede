/**
 * The consumer-group side of the consumer: joins `KAFKA_GROUP_ID` and feeds each batch to the
 * exactly-once core (`kafka-batches.ts`), PostgreSQL only through its port. Each part registers its
 * release on the consumer's stack as it starts, so a stop, a failed start and a failure all release
 * them in one order: stop fetching → let the batches being stored finish or abandon them → leave the group.
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
  type ServiceContext,
  STOPPING,
  type SummaryLog,
  startSummaryLog,
  toError,
  untilAborted,
  withRetry,
} from '@user-actions/shared';
import type { Admin, Consumer, EachBatchHandler } from 'kafkajs';
import type { ConsumerConfig } from '../config.js';
import type { LoaderMetrics } from '../metrics.js';
import { CONDITIONS } from '../readiness-conditions.js';
import { startBatchDecoder } from './batch-decoder.js';
import { createBatchObserver, type LoaderCounter, storedOffsetObserver } from './batch-observer.js';
import { createBatchStore } from './batch-store.js';
import { disconnectWithin, seekPartition } from './client-calls.js';
import { deadLetterSender } from './dead-letter.js';
import { DeadLetterGuard } from './dead-letter-guard.js';
import { createKafkaBatches } from './kafka-batches.js';
import { watchKafkaAnswers } from './kafka-watchdog.js';
import { trackLag } from './lag-tracker.js';
import type { PostgresPort } from './postgres-port.js';
import type { BatchPorts } from './store-batch.js';
import { watchStoredOffsets } from './stored-offset-watch.js';

export interface LoaderParts {
  metrics: LoaderMetrics;
  /** Its `kafka` condition is met while the consumer is in its group; the batch store keeps `postgres`. */
  readiness: Readiness;
  postgres: PostgresPort;
}

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

/**
 * Starts consuming; resolves once the consumer has asked to join its group, with `failed`, which
 * rejects with the error that makes the loader unable to go on (the consumer then stops, non-zero).
 */
export async function startLoader(
  config: ConsumerConfig,
  logger: Logger,
  { signal, onStop }: ServiceContext,
  parts: LoaderParts,
): Promise<{ failed: Promise<never> }> {
  const { metrics, readiness } = parts;
  const halt = new AbortController();
  const { promise: failed, reject } = Promise.withResolvers<never>();
  failed.catch(() => undefined); // observed by the consumer; never an unhandled rejection
  const fail = (error: Error) => {
    halt.abort(error);
    reject(error);
  };
  const running = AbortSignal.any([signal, halt.signal]);

  const summary = startSummaryLog<LoaderCounter>(logger, {
    intervalMs: config.summaryIntervalMs,
    message: 'loader summary',
    event: LOG_EVENT.loaderSummary,
    notReady: readiness.check,
  });
  onStop('log the last summary', () => summary.stop());
  const clients = await connectClients(config, logger, { signal, onStop });
  const { lag, storedOffsets } = watchPositions(config, logger, onStop, clients, parts);
  let watchdog: { stop(): void } | undefined;
  onStop('stop watching for answers from Kafka', () => watchdog?.stop());
  const decoder = startBatchDecoder();
  onStop('stop the decoding thread', () => decoder.stop());
  metrics.threads.watch('decoder', decoder.utilization);
  const batches = createKafkaBatches({
    decoder,
    signal: running,
    onFatal: fail,
    observer: createBatchObserver(logger, summary, metrics, lag),
    ports: batchPorts(config, logger, clients, { ...parts, summary, recovered: () => storedOffsets.checkAll() }),
  });
  // Commits need the consumer: the batches being stored finish before it leaves the group.
  onStop('finish the batches being stored', () => batches.drain());

  const { consumer } = clients;
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
  // kafkajs' run() returns after the first join, which the coordinator may hold for as long as a killed
  // member's session lasts: a stop meanwhile does not wait for it.
  const started = consumeWithRestarts(consumer, config, logger, {
    running,
    fail,
    readiness,
    eachBatch: batches.eachBatch,
    concurrency: parts.postgres.connections,
  });
  started.catch(() => undefined); // a failure after a stop is of no interest
  await Promise.race([started, untilAborted(running).then(() => running.throwIfAborted())]);
  onStop('tell readiness the consumer is stopping', () => readiness.unmetBecause(CONDITIONS.kafka, STOPPING));
  logger.info(
    { event: LOG_EVENT.consuming, topic: config.topic, groupId: config.groupId, deadLetterTopic: config.deadLetterTopic },
    'consuming',
  );
  return { failed };
}

type KafkaClients = Awaited<ReturnType<typeof connectClients>>;

/**
 * Where each partition stands: its lag behind the topic's end, and PostgreSQL's offsets, not Kafka's,
 * saying where it continues, which also find a table that went back while its partitions had nothing
 * new to fetch.
 */
function watchPositions(
  config: ConsumerConfig,
  logger: Logger,
  onStop: ServiceContext['onStop'],
  { admin, consumer }: KafkaClients,
  { metrics, readiness, postgres }: LoaderParts,
) {
  const lag = trackLag({
    gauge: metrics.lag,
    endOffsets: async () =>
      new Map((await admin.fetchTopicOffsets(config.topic)).map(({ partition, high }) => [partition, BigInt(high)])),
    onRefreshFailed: (error) => logger.debug({ err: toError(error) }, "could not read the partitions' ends for the lag"),
    brokerAnswers: () => readiness.isMet(CONDITIONS.kafkaAnswers),
  });
  onStop('stop tracking the lag', () => lag.stop());
  const storedOffsets = watchStoredOffsets({
    positions: lag,
    readStored: () => {
      metrics.storedOffsetReads.inc();
      return postgres.readStoredOffsets();
    },
    seek: (partition, offset) => seekPartition(consumer, config.topic, partition, offset),
    observer: storedOffsetObserver(logger, config.topic, metrics),
  });
  // Once PostgreSQL is back after it was lost, whichever server answers may have lost commits.
  const stopListening = postgres.onConnectionLost(() => storedOffsets.checkAll());
  onStop('stop watching the stored offsets', () => {
    storedOffsets.stop();
    stopListening();
  });
  return { lag, storedOffsets };
}

/** The exactly-once core's ports on the Kafka clients and PostgreSQL's port. */
function batchPorts(
  config: ConsumerConfig,
  logger: Logger,
  { admin, deadLetterProducer, consumer }: KafkaClients,
  parts: LoaderParts & { summary: SummaryLog<LoaderCounter>; recovered(): void },
): BatchPorts {
  const { metrics } = parts;
  const deadLetterGuard = new DeadLetterGuard({ maxRatio: config.deadLetterMaxRatio, window: config.deadLetterWindow });
  metrics.deadLetterShareLimit.set(config.deadLetterMaxRatio);
  return {
    ...createBatchStore({ ...parts, ...parts.postgres, maxOutageMs: config.maxOutageMs, logger }),
    deadLetter: deadLetterSender(deadLetterProducer, config.deadLetterTopic),
    commit: (topic, partition, offset) => consumer.commitOffsets([{ topic, partition, offset }]),
    logStart: (topic, partition, signal) => readLogStart(admin, topic, partition, logger, signal),
    seek: (topic, partition, offset) => consumer.seek({ topic, partition, offset: offset.toString() }),
    onLostEvents: config.onLostEvents,
    guard: {
      record(messages, deadLetters) {
        const verdict = deadLetterGuard.record(messages, deadLetters);
        metrics.deadLetterShare.set(verdict.share);
        return verdict;
      },
    },
  };
}

/** The admin client and the topics, the dead-letter producer, and the group's consumer (not yet joined). */
async function connectClients(config: ConsumerConfig, logger: Logger, { signal, onStop }: ServiceContext) {
  const kafka = createKafka(config, logger);
  const admin = kafka.admin();
  // Kept connected: the partitions' ends for the lag, and their log starts when PostgreSQL's offset is behind a batch.
  await connectWithRetry(() => admin.connect(), config, logger, signal);
  onStop('disconnect the admin client', () => disconnectWithin(admin, ADMIN_DISCONNECT_MS, logger, 'the admin client'));
  const { topic, topicPartitions: partitions, topicRetentionMs: retentionMs } = config;
  await ensureTopic(admin, { topic, partitions, retentionMs }, { logger, signal });
  const deadLetters = { topic: config.deadLetterTopic, partitions: 1, retentionMs: config.deadLetterRetentionMs };
  await ensureTopic(admin, deadLetters, { logger, signal });

  const deadLetterProducer = createReliableProducer(config, logger);
  await connectWithRetry(() => deadLetterProducer.connect(), config, logger, signal);
  onStop('disconnect the dead-letter producer', () => deadLetterProducer.disconnect());

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
  onStop('leave the consumer group', () => disconnectWithin(consumer, LEAVE_GROUP_MS, logger, 'the consumer group'));
  return { admin, deadLetterProducer, consumer };
}

/**
 * Joins the group and runs `eachBatch` on what it fetches. kafkajs restarts itself after most failures,
 * but gives up on some it calls permanent, such as no group coordinator while a broker is away for a
 * while: those that are transient for us start the consumer again from its committed offsets.
 */
function consumeWithRestarts(
  consumer: Consumer,
  config: ConsumerConfig,
  logger: Logger,
  hooks: {
    running: AbortSignal;
    fail(error: Error): void;
    readiness: Readiness;
    eachBatch: EachBatchHandler;
    concurrency: number;
  },
): Promise<void> {
  const { running, fail, readiness, eachBatch, concurrency } = hooks;
  const start = async () => {
    await connectWithRetry(() => consumer.connect(), config, logger, running);
    await withRetry(() => consumer.subscribe({ topics: [config.topic], fromBeginning: true }), {
      verdictOf: kafkaVerdict,
      signal: running,
      onRetry: logRetries(logger, 'cannot subscribe yet', { topic: config.topic }),
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Batches from as many partitions are stored at once as PostgreSQL's port has connections.
      partitionsConsumedConcurrently: concurrency,
      eachBatch,
    });
  };
  consumer.on(consumer.events.CRASH, ({ payload: { error, restart } }) => {
    readiness.unmetBecause(CONDITIONS.kafka, `Kafka consumer failed: ${error.message}`);
    if (restart) {
      logger.warn({ err: error }, 'Kafka consumer failed; kafkajs restarts it');
      return;
    }
    if (running.aborted) return;
    const failure = classify(error, kafkaVerdict);
    if (!isRetryable(failure, kafkaVerdict)) {
      fail(failure);
      return;
    }
    logger.warn({ err: error }, 'the Kafka consumer stopped; starting it again');
    start().catch((caught: unknown) => {
      if (!isAbortError(caught)) fail(toError(caught));
    });
  });
  return start();
}

/** The oldest offset Kafka still holds in the partition, retried while the broker cannot tell. */
function readLogStart(admin: Admin, topic: string, partition: number, logger: Logger, signal: AbortSignal): Promise<bigint> {
  return withRetry(
    async () => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return BigInt(offsets.find((offset) => offset.partition === partition)?.low ?? 0);
    },
    { verdictOf: kafkaVerdict, signal, onRetry: logRetries(logger, 'cannot read the log start yet', { topic }) },
  );
}
