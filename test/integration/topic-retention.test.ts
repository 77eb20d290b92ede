/**
 * The daemons create the topic with KAFKA_TOPIC_RETENTION_MS and the dead-letter topic with the longer
 * KAFKA_DLQ_RETENTION_MS; a topic that exists keeps its own, with a warning when it differs.
 */
import { LOG_EVENT } from '@user-actions/shared';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createWorld } from '../support/world.js';

async function retentionOf(admin: Admin, topic: string): Promise<string | null | undefined> {
  const { resources } = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
    includeSynonyms: false,
  });
  return resources[0]?.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue;
}

it('creates the topic with its retention and the dead-letter topic with a longer one', async () => {
  const world = await createWorld();
  const consumer = spawnDaemon('consumer', world.env);
  await consumer.waitForLog((line) => line.event === LOG_EVENT.consuming);
  expect(await retentionOf(world.admin, world.topic)).toBe('604800000');
  expect(await retentionOf(world.admin, `${world.topic}.dlq`)).toBe('2592000000');
  expect((await consumer.stop()).code).toBe(0);
});

it("leaves an existing topic's retention as it is, and says that it differs", async () => {
  const world = await createWorld();
  await world.admin.createTopics({
    topics: [{ topic: world.topic, numPartitions: 6, configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
    waitForLeaders: true,
  });
  const producer = spawnDaemon('producer', { ...world.env, KAFKA_TOPIC_RETENTION_MS: '3600000', PRODUCER_COUNT: '1' });
  expect((await producer.exited).code).toBe(0);
  expect(await retentionOf(world.admin, world.topic)).toBe('86400000');
  expect(producer.logs.find((line) => line.topic === world.topic && line.level === 40)).toMatchObject({
    retentionMs: 86_400_000,
    wanted: 3_600_000,
  });
});
