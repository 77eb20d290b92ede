/**
 * The Kafka edge of the producer: makes sure the topic exists, then sends events keyed by `UserId`
 * (so one user's events stay in order on one partition), acknowledged by every in-sync replica.
 */
import {
  abortedAfter,
  connectWithRetry,
  createKafka,
  createReliableProducer,
  ensureTopic,
  LOG_EVENT,
  type Logger,
} from '@user-actions/shared';
import { SHUTDOWN_GRACE_MS } from '@user-actions/shared/daemon';
import type { ProducerConfig } from './config.js';
import { type EventBatch, messagesOf } from './events/event-batch.js';

export interface Publisher {
  /** Resolves once the broker has acknowledged every event; retries while the broker is away. */
  send(events: EventBatch): Promise<void>;
  stop(): Promise<void>;
}

export async function startPublisher(
  config: ProducerConfig,
  logger: Logger,
  signal: AbortSignal,
  hooks: { onSendRetry?: (error: Error) => void } = {},
): Promise<Publisher> {
  const kafka = createKafka(config, logger);
  const admin = kafka.admin();
  await connectWithRetry(() => admin.connect(), config, logger, signal);
  try {
    await ensureTopic(
      admin,
      { topic: config.topic, partitions: config.topicPartitions, retentionMs: config.topicRetentionMs },
      { logger, signal },
    );
  } finally {
    await admin.disconnect();
  }

  const producer = createReliableProducer(config, logger, {
    compression: config.compression,
    ...(hooks.onSendRetry ? { onRetry: hooks.onSendRetry } : {}),
  });
  await connectWithRetry(() => producer.connect(), config, logger, signal);
  await producer.loadTopic(config.topic);
  logger.info({ event: LOG_EVENT.connectedToKafka, topic: config.topic, brokers: config.brokers }, 'connected to Kafka');

  // A send in flight at a stop is finished, so that what was generated is delivered; while Kafka is
  // away it is abandoned halfway through the grace, so that the stop still ends in time.
  const sending = abortedAfter(signal, SHUTDOWN_GRACE_MS / 2);
  return {
    async send(events) {
      await producer.send(config.topic, messagesOf(events), sending);
    },
    stop: () => producer.disconnect(),
  };
}
