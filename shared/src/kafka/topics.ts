/** The topic: created with enough partitions to scale out, and its offsets once the broker has them. */
import type { Admin } from 'kafkajs';
import type { Logger } from '../logger.js';
import { logRetries, withRetry } from '../retry.js';
import { TOPIC_CONFIG } from './client.js';
import { kafkaVerdict } from './errors.js';

/**
 * Each partition's first offset kept (`low`) and next to be written (`high`). Right after a topic is
 * created, or while a partition changes leader, the broker may answer "not the leader" for a moment;
 * that is waited out rather than thrown.
 */
export async function topicEnds(
  admin: Admin,
  topic: string,
  { logger, signal }: { logger?: Logger; signal: AbortSignal },
): ReturnType<Admin['fetchTopicOffsets']> {
  return withRetry(() => admin.fetchTopicOffsets(topic), {
    verdictOf: kafkaVerdict,
    maxElapsedMs: 60_000,
    signal,
    onRetry: logger ? logRetries(logger, 'topic offsets not available yet', { topic }) : undefined,
  });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** The topic's `retention.ms`: how long Kafka keeps each event. */
  retentionMs: number;
}

/**
 * Creates the topic with the wanted partition count and retention if it does not exist. An existing
 * topic is left as it is, with a warning where it differs: adding partitions would move users to other
 * partitions and break the per-user order, and its retention is its operator's to change.
 */
export async function ensureTopic(
  admin: Admin,
  spec: TopicSpec,
  { logger, signal, maxWaitMs = 60_000 }: { logger: Logger; signal: AbortSignal; maxWaitMs?: number },
): Promise<void> {
  // Replicas starting together race to create the topic; the losers may ask a broker that has not
  // heard of it yet. And a cluster whose brokers are still registering refuses a replication factor
  // it will soon have (kafka/errors.ts). Both pass within moments; after maxWaitMs the daemon stops.
  await withRetry(() => createOrCheckTopic(admin, spec, logger), {
    verdictOf: kafkaVerdict,
    maxElapsedMs: maxWaitMs,
    signal,
    onRetry: logRetries(logger, 'topic not ready yet', { topic: spec.topic }),
  });
}

async function createOrCheckTopic(admin: Admin, { topic, partitions, retentionMs }: TopicSpec, logger: Logger): Promise<void> {
  // Asking first: kafkajs logs a warning whenever it is asked to create a topic that exists, which
  // would put a warning into every start of every daemon.
  const exists = (await admin.listTopics()).includes(topic);
  const created =
    !exists &&
    (await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, configEntries: [{ name: RETENTION, value: String(retentionMs) }] }],
      waitForLeaders: true,
    }));
  if (created) {
    logger.info({ topic, partitions, retentionMs }, 'created topic');
    return;
  }
  const existingRetention = await topicRetentionMs(admin, topic);
  if (existingRetention !== undefined && existingRetention !== retentionMs) {
    logger.warn(
      { topic, retentionMs: existingRetention, wanted: retentionMs },
      "the topic's retention.ms differs from the setting; an existing topic is left as it is (kafka-configs.sh --alter changes it)",
    );
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const existing = metadata.topics[0]?.partitions.length ?? 0;
  if (existing < partitions) {
    logger.warn(
      { topic, partitions: existing, wanted: partitions },
      'topic has fewer partitions than KAFKA_TOPIC_PARTITIONS; at most that many consumers will share the load',
    );
  } else {
    logger.info({ topic, partitions: existing }, 'topic exists');
  }
}

const RETENTION = 'retention.ms';

/** The topic's retention.ms as the broker reports it (its own default when the topic sets none). */
async function topicRetentionMs(admin: Admin, topic: string): Promise<number | undefined> {
  const { resources } = await admin.describeConfigs({
    resources: [{ type: TOPIC_CONFIG, name: topic, configNames: [RETENTION] }],
    includeSynonyms: false,
  });
  const value = resources[0]?.configEntries.find((entry) => entry.configName === RETENTION)?.configValue;
  return value === undefined || value === null ? undefined : Number(value);
}
