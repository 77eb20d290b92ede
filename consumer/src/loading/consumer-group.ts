/**
 * The consumer group's Kafka clients: the admin client and the topics, the dead-letter producer, and the
 * group's consumer, each connected with retries and released on the consumer's stack; the consumer
 * joined and started again after a crash kafkajs gives up on.
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
  type Logger,
  logRetries,
  type Readiness,
  type ServiceContext,
  toError,
  withRetry,
} from '@user-actions/shared';
import type { Admin, Consumer, EachBatchHandler } from 'kafkajs';
import type { ConsumerConfig } from '../config.js';
import { CONDITIONS } from '../readiness-conditions.js';
import { disconnectWithin } from './client-calls.js';

// With the next batch fetched while one is stored and decoding on its own thread, fetches of 2 MiB
// (1 MiB, about 2,700 events, from any one partition) drain a backlog faster than fetches of 3–6 MiB
// and keep the consumer's memory well under 250 MB whatever the backlog (docs/benchmarks.md).
const MAX_BYTES_PER_PARTITION = 1024 * 1024;
const MAX_BYTES_PER_FETCH = 2 * 1024 * 1024;
// How long the coordinator may hold a join for the members to rejoin (kafkajs' default, stated).
export const REBALANCE_TIMEOUT_MS = 60_000;
// kafkajs' disconnect waits for the requests in flight: on a silent broker, up to the request timeout,
// and mid-rebalance for the join the coordinator holds. The admin client's requests (a lag refresh, a log
// start) are of no use once stopping; leaving the group only spares the others a session timeout, and the
// offsets are safe in PostgreSQL either way, so both are bounded to keep the stop within its grace.
const ADMIN_DISCONNECT_MS = 1_000;
const LEAVE_GROUP_MS = 3_000;

export type KafkaClients = Awaited<ReturnType<typeof connectClients>>;

/** The admin client and the topics, the dead-letter producer, and the group's consumer (not yet joined). */
export async function connectClients(config: ConsumerConfig, logger: Logger, { signal, onStop }: ServiceContext) {
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
export function consumeWithRestarts(
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
export function readLogStart(
  admin: Admin,
  topic: string,
  partition: number,
  logger: Logger,
  signal: AbortSignal,
): Promise<bigint> {
  return withRetry(
    async () => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return BigInt(offsets.find((offset) => offset.partition === partition)?.low ?? 0);
    },
    { verdictOf: kafkaVerdict, signal, onRetry: logRetries(logger, 'cannot read the log start yet', { topic }) },
  );
}
