import { describe, expect, it } from 'vitest';
import { partitionFor } from '../../shared/src/kafka/reliable-producer.js';
import { topicEnds } from '../../shared/src/kafka/topics.js';
import { spawnDaemon } from '../support/daemon.js';
import { committedOffsets, readTopic } from '../support/kafka.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

describe('producer → Kafka → consumer → PostgreSQL', () => {
  it('stores every produced event exactly once, with the values that were sent', async () => {
    const world = await createWorld();
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '2', PRODUCER_COUNT: '300' });
    expect((await producer.exited).code).toBe(0);

    const consumer = spawnDaemon('consumer', world.env);
    await world.waitForRows(300, '300 rows');
    expect(await waitUntilStable(world.rowCount)).toBe(300);

    const sent = await readTopic(world.kafka, world.admin, world.topic);
    expect(sent).toHaveLength(300);
    const rows = new Map((await world.rows()).map((row) => [row.event_id, row]));
    for (const message of sent) {
      const event = JSON.parse(message.value ?? '');
      expect(message.key).toBe(event.UserId);
      const row = rows.get(event.EventId);
      expect(row, `row for event ${event.EventId}`).toBeDefined();
      expect(row).toMatchObject({
        userid: event.UserId,
        action: event.Action,
        ipaddress: event.Metadata.IpAddress,
        device: event.Metadata.Device,
        metadata: event.Metadata,
      });
      expect(row?.timestamp.toISOString()).toBe(event.Timestamp);
    }

    // The group's offsets reach the end of every partition once the rows are stored.
    const ends = await topicEnds(world.admin, world.topic, { signal: AbortSignal.timeout(60_000) });
    await waitFor(
      () => committedOffsets(world.admin, world.groupId, world.topic),
      (committed) => ends.every((end) => committed.get(end.partition) === BigInt(end.high)),
      { what: 'offsets committed to the end of each partition' },
    );
    expect((await consumer.stop()).code).toBe(0);
    // The topic was there already: no warning that it could not be created (kafkajs logs one if asked to).
    const topicWarnings = consumer.logs.filter((line) => line.level >= 40 && /CreateTopics|Topic creation/.test(line.msg));
    expect(topicWarnings).toEqual([]);
  });

  it('spreads the topic over KAFKA_TOPIC_PARTITIONS partitions, keyed by user', async () => {
    const world = await createWorld();
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '200' });
    expect((await producer.exited).code).toBe(0);

    const metadata = await world.admin.fetchTopicMetadata({ topics: [world.topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(6);
    const messages = await readTopic(world.kafka, world.admin, world.topic);
    expect(new Set(messages.map((message) => message.partition)).size).toBeGreaterThan(1);
    // Kafka's own partitioner: the Java client would put each user's events on the same partition.
    for (const message of messages) expect(message.partition).toBe(partitionFor(message.key ?? '', 6));
  });

  it('in load mode (--rate 0 --count N, gzip batches) stores exactly N events once', async () => {
    const world = await createWorld();
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '500', KAFKA_COMPRESSION: 'gzip' }, [
      '--rate',
      '0',
      '--count',
      '5000',
    ]);
    expect((await producer.exited).code).toBe(0);

    const consumer = spawnDaemon('consumer', world.env);
    await world.waitForRows(5000, '5000 rows');
    expect(await waitUntilStable(world.rowCount)).toBe(5000);
    const distinct = await world.db.query<{ n: string }>('SELECT count(DISTINCT event_id) AS n FROM useractions');
    expect(Number(distinct.rows[0]?.n)).toBe(5000);
    expect((await consumer.stop()).code).toBe(0);
  });

  it('a first start, producer and consumer at once on a new topic and group, logs no warning', async () => {
    const world = await createWorld();
    // Both race to create the topic; the broker elects the new group's coordinator meanwhile.
    const consumer = spawnDaemon('consumer', world.env);
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '20', PRODUCER_COUNT: '100' });
    expect((await producer.exited).code).toBe(0);
    await world.waitForRows(100, '100 rows');
    expect((await consumer.stop()).code).toBe(0);
    const warnings = [...producer.logs, ...consumer.logs].filter((line) => line.level >= 40);
    expect(warnings.map((line) => line.msg)).toEqual([]);
  });
});
