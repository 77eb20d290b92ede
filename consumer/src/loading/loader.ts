/**
 * The consumer-group side of the consumer: joins `KAFKA_GROUP_ID` and feeds each batch to the
 * exactly-once core (`kafka-batches.ts`), PostgreSQL only through its port. Each part registers its
 * release on the consumer's stack as it starts, so a stop, a failed start and a failure all release
 * them in one order: stop fetching → let the batches being stored finish or abandon them → leave the group.
 */

import {
  abandonedOnAbort,
  LOG_EVENT,
  type Logger,
  type Readiness,
  type ServiceContext,
  STOPPING,
  type SummaryLog,
  startSummaryLog,
  toError,
} from '@user-actions/shared';
import type { ConsumerConfig } from '../config.js';
import type { LoaderMetrics } from '../metrics.js';
import { CONDITIONS } from '../readiness-conditions.js';
import { startBatchDecoder } from './batch-decoder.js';
import { createBatchObserver, type LoaderCounter, storedOffsetObserver } from './batch-observer.js';
import { createBatchStore } from './batch-store.js';
import { seekPartition } from './client-calls.js';
import { connectClients, consumeWithRestarts, type KafkaClients, REBALANCE_TIMEOUT_MS, readLogStart } from './consumer-group.js';
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
  const { failed, fail, halted } = failureLatch();
  const running = AbortSignal.any([signal, halted]);

  const summary = startSummaryLog<LoaderCounter>(logger, {
    intervalMs: config.summaryIntervalMs,
    message: 'loader summary',
    event: LOG_EVENT.loaderSummary,
    notReady: readiness.check,
  });
  onStop('log the last summary', () => summary.stop());
  const clients = await connectClients(config, logger, { signal, onStop });
  const { lag, storedOffsets } = watchPositions(config, logger, onStop, clients, parts);
  followJoins(config, logger, clients.consumer, { running, readiness, lag, storedOffsets, onStop });
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

  // kafkajs' run() returns after the first join, which the coordinator may hold for as long as a killed
  // member's session lasts: a stop meanwhile does not wait for it.
  const started = consumeWithRestarts(clients.consumer, config, logger, {
    running,
    fail,
    readiness,
    eachBatch: batches.eachBatch,
    concurrency: parts.postgres.connections,
  });
  await abandonedOnAbort(started, running);
  onStop('tell readiness the consumer is stopping', () => readiness.unmetBecause(CONDITIONS.kafka, STOPPING));
  logger.info(
    { event: LOG_EVENT.consuming, topic: config.topic, groupId: config.groupId, deadLetterTopic: config.deadLetterTopic },
    'consuming',
  );
  return { failed };
}

/**
 * At each join: readiness, the partitions whose lag is tracked, a check of PostgreSQL's offsets, and from
 * the first the watch for answers from Kafka.
 */
function followJoins(
  config: ConsumerConfig,
  logger: Logger,
  consumer: KafkaClients['consumer'],
  {
    running,
    readiness,
    lag,
    storedOffsets,
    onStop,
  }: Pick<ServiceContext, 'onStop'> & { running: AbortSignal; readiness: Readiness } & ReturnType<typeof watchPositions>,
): void {
  let watchdog: { stop(): void } | undefined;
  onStop('stop watching for answers from Kafka', () => watchdog?.stop());
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // A join that completes once stopping has begun starts nothing: its parts may be released already.
    if (running.aborted) return;
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
}

/** The loader's own failure: `fail` aborts `halted` and rejects `failed` with the error. */
function failureLatch() {
  const halt = new AbortController();
  const { promise: failed, reject } = Promise.withResolvers<never>();
  failed.catch(() => undefined); // observed by the consumer; never an unhandled rejection
  return {
    failed,
    halted: halt.signal,
    fail(error: Error) {
      halt.abort(error);
      reject(error);
    },
  };
}

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
