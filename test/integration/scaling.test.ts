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

it('SIGTERM while the coordinator holds the join for a killed member still exits 0 within the grace, for a member and a newcomer', async () => {
  const world = await createWorld();
  // A killed member is waited for until its session expires: 24 s of a join held for the others.
  const env = { ...world.env, KAFKA_SESSION_TIMEOUT_MS: '24000' };
  const first = spawnDaemon('consumer', { ...env, KAFKA_CLIENT_ID: 'loader-first' });
  const killed = spawnDaemon('consumer', { ...env, KAFKA_CLIENT_ID: 'loader-killed' });
  await waitFor(
    async () => (await world.admin.describeGroups([world.groupId])).groups[0],
    (group) => group?.state === 'Stable' && group.members.length === 2,
    { what: 'a stable group of two members' },
  );
  await killed.stop('SIGKILL');
  // A new member starts a rebalance, which waits for the killed one to rejoin or expire. (The first
  // member may have logged a rebalance already, when the killed one joined: only a later line counts.)
  const before = first.logs.length;
  const joining = spawnDaemon('consumer', { ...env, KAFKA_CLIENT_ID: 'loader-joining' });
  await first.waitForLog((line) => first.logs.indexOf(line) >= before && /rebalancing/i.test(line.msg), 30_000);

  expect((await world.admin.describeGroups([world.groupId])).groups[0]?.state).toBe('PreparingRebalance');

  const exit = await first.stop('SIGTERM');
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(9_000);
  const joiningExit = await joining.stop(); // its first join is held too
  expect(joiningExit.code).toBe(0);
  expect(joiningExit.ms).toBeLessThan(9_000);
});
