/**
 * The Kafka edge of the producer: makes sure the topic exists, then sends events keyed by `UserId`
 * (so one user's events stay in order on one partition), acknowledged by every in-sync replica.
 */
import { connectWithRetry, createKafka, createReliableProducer, ensureTopic, LOG_EVENT, type Logger } from '@user-actions/shared';
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

  return {
    async send(events) {
      // No abort signal: a send in flight at shutdown is finished, so that what was generated is delivered.
      await producer.send(config.topic, messagesOf(events));
    },
    stop: () => producer.disconnect(),
  };
}
