import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

it('three consumers in one group share the partitions and together store every event once', async () => {
  const world = await createWorld();
  const consumers = [1, 2, 3].map((n) => spawnDaemon('consumer', { ...world.env, KAFKA_CLIENT_ID: `loader-${n}` }));

  // Every member ends up with a share of the six partitions.
  const description = await waitFor(
    async () => (await world.admin.describeGroups([world.groupId])).groups[0],
    (group) => group?.state === 'Stable' && group.members.length === 3,
    { what: 'a stable group of three members' },
  );
  expect(description?.members).toHaveLength(3);

  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '1', PRODUCER_COUNT: '1500' });
  expect((await producer.exited).code).toBe(0);
  await world.waitForRows(1500, '1500 rows');
  expect(await waitUntilStable(world.rowCount)).toBe(1500);

  const exits = await Promise.all(consumers.map((consumer) => consumer.stop()));
  expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
  // Each consumer stored part of the load, and the parts add up to the whole.
  const storedAfterStop = consumers.map((consumer) =>
    consumer.logs
      .filter((line) => line.event === LOG_EVENT.loaderSummary)
      .reduce((sum, line) => sum + Number(line.stored ?? 0), 0),
  );
  expect(storedAfterStop.every((stored) => stored > 0)).toBe(true);
  expect(storedAfterStop.reduce((a, b) => a + b, 0)).toBe(1500);
});
