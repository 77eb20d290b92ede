/**
 * An idempotent Kafka producer (acks from every in-sync replica) that works around two defects of
 * kafkajs 2.2.4 which lose or wedge messages when a partition leader moves (a broker restarting in a
 * cluster):
 *
 * - A send spanning several leaders retries only towards the brokers that have not answered yet. When a
 *   failed partition's new leader is a broker that already answered for other partitions, that
 *   partition's messages are never resent, yet the send resolves as a success. So every send here
 *   targets exactly one partition (partitions are computed with Kafka's own murmur2 partitioner).
 * - After a leader change the idempotent producer can resend with sequence numbers the new leader
 *   rejects forever (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH). The
 *   producer is then replaced by a new one (a new producer id) and the send repeated; messages that had
 *   been written already are written twice, which the consumer's event ids absorb.
 */
import {
  type Admin,
  CompressionTypes,
  type Kafka,
  type Message,
  Partitioners,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import { isTransientKafkaError } from './kafka.js';
import type { Logger } from './logger.js';
import { logRetries, withRetry } from './retry.js';

const NEEDS_NEW_PRODUCER_ID = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

export function needsNewProducerId(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && NEEDS_NEW_PRODUCER_ID.has(type)) return true;
  }
  return false;
}

export interface ReliableProducer {
  connect(): Promise<void>;
  /** Resolves once every message is acknowledged; retries transient failures until `signal` aborts. */
  send(topic: string, messages: Message[], signal?: AbortSignal): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

/** Splits messages by the partition Kafka's default (Java-compatible) partitioner gives them. */
export function groupByPartition(messages: readonly Message[], partitionCount: number, topic = ''): Map<number, Message[]> {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [],
    isr: [],
    partitionErrorCode: 0,
  }));
  const groups = new Map<number, Message[]>();
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const group = groups.get(partition);
    if (group) group.push({ ...message, partition });
    else groups.set(partition, [{ ...message, partition }]);
  }
  return groups;
}

export function createReliableProducer(
  kafka: Kafka,
  logger: Logger,
  { onRetry, compression = 'none' }: { onRetry?: (error: Error) => void; compression?: 'none' | 'gzip' } = {},
): ReliableProducer {
  const codec = compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const create = (): Producer => kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let producer = create();
  const admin: Admin = kafka.admin();
  const partitionCounts = new Map<string, number>();

  const partitionCountOf = async (topic: string): Promise<number> => {
    const known = partitionCounts.get(topic);
    if (known !== undefined) return known;
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions`);
    partitionCounts.set(topic, count);
    return count;
  };

  const replace = async (reason: string) => {
    logger.warn({ reason }, 'the broker rejected the producer sequence; continuing with a new producer id');
    const old = producer;
    producer = create();
    await old.disconnect().catch(() => undefined);
    await producer.connect();
  };

  const sendToOnePartition = (topic: string, messages: Message[], signal?: AbortSignal) => {
    const logSendRetry = logRetries(logger, 'send failed; retrying', { topic, messages: messages.length });
    return withRetry(
      async () => {
        try {
          return await producer.send({ topic, acks: -1, messages, compression: codec });
        } catch (error) {
          if (needsNewProducerId(error)) await replace((error as Error).message);
          throw error;
        }
      },
      {
        isRetryable: (error) => isTransientKafkaError(error) || needsNewProducerId(error),
        ...(signal ? { signal } : {}),
        onRetry: (error, attempt, delayMs) => {
          onRetry?.(error);
          logSendRetry(error, attempt, delayMs);
        },
      },
    );
  };

  return {
    async connect() {
      await admin.connect();
      await producer.connect();
    },
    async send(topic, messages, signal) {
      const groups = groupByPartition(messages, await partitionCountOf(topic), topic);
      const results = await Promise.all([...groups.values()].map((group) => sendToOnePartition(topic, group, signal)));
      return results.flat();
    },
    async disconnect() {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}
