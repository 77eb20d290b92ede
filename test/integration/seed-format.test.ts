import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createTopic, produceRaw } from '../support/kafka.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

// The original system's README example, byte for byte: no EventId.
const SEED_MESSAGE = {
  UserId: '550e8400-e29b-41d4-a716-446655440000',
  Action: 'Purchase',
  Metadata: { IpAddress: '192.168.1.145', Device: 'Chrome on Windows' },
  Timestamp: '2024-01-15T10:30:00Z',
};

it('stores a seed-format message without EventId once, even when it is delivered again', async () => {
  const world = await createWorld();
  await createTopic(world.admin, world.topic);
  await produceRaw(world.kafka, world.topic, [{ key: SEED_MESSAGE.UserId, value: JSON.stringify(SEED_MESSAGE) }]);

  const first = spawnDaemon('consumer', world.env);
  await waitFor(world.rowCount, (count) => count === 1, { what: 'the seed message stored' });
  const [row] = await world.rows();
  expect(row).toMatchObject({
    userid: SEED_MESSAGE.UserId,
    action: 'Purchase',
    ipaddress: '192.168.1.145',
    device: 'Chrome on Windows',
  });
  expect(row?.timestamp.toISOString()).toBe('2024-01-15T10:30:00.000Z');
  expect((await first.stop()).code).toBe(0);

  // Rewind the group to the start of the topic, in PostgreSQL (the offsets the consumer trusts) and in
  // Kafka (where a partition without a stored offset starts): the same message is delivered a second time.
  await world.db.query('DELETE FROM useractions_offsets');
  await world.admin.resetOffsets({ groupId: world.groupId, topic: world.topic, earliest: true });
  const second = spawnDaemon('consumer', world.env);
  await second.waitForLog((line) => line.event === LOG_EVENT.loaderSummary && line.redelivered === 1);
  expect(await waitUntilStable(world.rowCount)).toBe(1);
  expect((await second.stop()).code).toBe(0);
});
