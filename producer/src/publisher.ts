/**
 * The Kafka edge of the producer: makes sure the topic exists, then sends events keyed by `UserId`
 * (so one user's events stay in order on one partition), acknowledged by every in-sync replica.
 */
import {
  connectWithRetry,
  createKafka,
  ensureTopic,
  isTransientKafkaError,
  type Logger,
  type UserActionEvent,
  withRetry,
} from '@user-actions/shared';
import { Partitioners, type RecordMetadata } from 'kafkajs';
import type { ProducerConfig } from './config.js';

export interface Publisher {
  /** Resolves once the broker has acknowledged every event; retries while the broker is away. */
  send(events: readonly UserActionEvent[]): Promise<RecordMetadata[]>;
  stop(): Promise<void>;
}

export async function startPublisher(config: ProducerConfig, logger: Logger, signal: AbortSignal): Promise<Publisher> {
  const kafka = createKafka({ brokers: config.brokers, clientId: config.clientId, logger });
  const admin = kafka.admin();
  await connectWithRetry(() => admin.connect(), { brokers: config.brokers, logger, signal });
  try {
    await ensureTopic(admin, { topic: config.topic, partitions: config.topicPartitions }, logger);
  } finally {
    await admin.disconnect();
  }

  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Kafka's own (Java-compatible) murmur2 partitioner: the same user lands on the same partition
    // whichever client produced the event.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await connectWithRetry(() => producer.connect(), { brokers: config.brokers, logger, signal });
  logger.info({ topic: config.topic, brokers: config.brokers }, 'connected to Kafka');

  return {
    send: (events) =>
      withRetry(
        () =>
          producer.send({
            topic: config.topic,
            acks: -1,
            messages: events.map((event) => ({ key: event.UserId, value: JSON.stringify(event) })),
          }),
        {
          isRetryable: isTransientKafkaError,
          onRetry: (error, attempt, delayMs) =>
            logger.warn(
              { events: events.length, attempt: attempt + 1, retryInMs: delayMs, reason: error.message },
              'send failed; retrying',
            ),
        },
      ),
    stop: () => producer.disconnect(),
  };
}
