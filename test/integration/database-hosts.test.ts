/**
 * DATABASE_URL with a primary and its streaming replica, as libpq takes them: the consumer writes to
 * whichever is the writable primary, and after the primary dies and the replica is promoted it carries on.
 * Servers of the test's own, so that one can be killed.
 */
import { expect, inject, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { primaryWithStandby } from '../support/postgres-server.js';
import { waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const PRIMARY_PORT = 25652;
const STANDBY_PORT = 25653;
const servers = primaryWithStandby(PRIMARY_PORT, STANDBY_PORT);

it('writes to the primary wherever it is in DATABASE_URL, and to the promoted replica once the primary is gone', async () => {
  // The replica first: target_session_attrs=read-write (the default) passes it by.
  const world = await createWorld({
    databaseUrl: `postgres://postgres@127.0.0.1:${STANDBY_PORT},127.0.0.1:${PRIMARY_PORT}/postgres`,
    kafkaBrokers: inject('kafkaBrokers'),
  });
  const consumer = spawnDaemon('consumer', world.env);
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '100' });
  expect((await producer.exited).code).toBe(0);
  await world.waitForRows(100);

  servers.primary.kill();
  servers.standby.promote();
  const more = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '100' });
  expect((await more.exited).code).toBe(0);
  await world.waitForRows(200, 'the next 100 rows, in the promoted replica');
  expect(await waitUntilStable(world.rowCount, { stableMs: 1_000 })).toBe(200);
  expect((await consumer.stop()).code).toBe(0);
});
