/** Test-side Kafka helpers: raw messages in (including malformed ones), everything in a topic out. */
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { topicEnds } from '../../shared/src/kafka/topics.js';

export interface TopicMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export async function createTopic(admin: Admin, topic: string, partitions = 6): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
}

export async function produceRaw(kafka: Kafka, topic: string, messages: { key?: string; value: string }[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    // One send keeps their order when they share a partition.
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Reads every message currently in the topic (up to each partition's high watermark). */
export async function readTopic(kafka: Kafka, admin: Admin, topic: string): Promise<TopicMessage[]> {
  const messages: TopicMessage[] = [];
  await forEachTopicBatch(kafka, admin, topic, async (batch) => void messages.push(...batch));
  return messages;
}

/**
 * Hands every message currently in the topic to `onBatch`, a fetched batch at a time, so that a topic
 * too large to hold in memory can be checked.
 */
export async function forEachTopicBatch(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  onBatch: (messages: TopicMessage[]) => Promise<void>,
  { timeoutMs = 60_000 } = {},
): Promise<void> {
  const ends = await topicEnds(admin, topic, { signal: AbortSignal.timeout(60_000) });
  const remaining = new Map(ends.filter((end) => end.high !== end.low).map((end) => [end.partition, BigInt(end.high)]));
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId: `test-reader-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`could not read all of ${topic} in ${timeoutMs} ms`)), timeoutMs);
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          const end = remaining.get(batch.partition);
          if (end === undefined) return;
          const messages = batch.messages.filter((message) => BigInt(message.offset) < end);
          await onBatch(messages.map((message) => toTopicMessage(batch.partition, message)));
          if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
          if (remaining.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

function toTopicMessage(partition: number, message: KafkaMessage): TopicMessage {
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null,
    headers: headerStrings(message.headers),
  };
}

/** The group's committed position per partition (the next offset it will read); -1 where none. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map((result?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** The headers of a consumed message as plain strings. */
export function headerStrings(headers: KafkaMessage['headers']): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}
