/**
 * The read API on servers of the test's own: reads sent to a streaming replica by
 * target_session_attrs (scaling reads on PostgreSQL's own replication), and PostgreSQL stopped and
 * started under a running API — 503 with Retry-After meanwhile, then answers again by itself.
 */
import { expect, inject, it } from 'vitest';
import { startApi } from '../support/api.js';
import { primaryWithStandby } from '../support/postgres-server.js';
import { storeKnownEvents } from '../support/stored-events.js';
import { waitFor } from '../support/wait.js';
import { createWorld, poolFor } from '../support/world.js';

const PRIMARY_PORT = 25782;
const STANDBY_PORT = 25783;
const servers = primaryWithStandby(PRIMARY_PORT, STANDBY_PORT);

/** The API's sessions on one server, as pg_stat_activity shows them. */
async function apiSessionsOn(port: number): Promise<number> {
  const db = poolFor(`postgres://postgres@127.0.0.1:${port}/postgres?target_session_attrs=any`, 1);
  try {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'user-actions-api'`,
    );
    return rows[0].n;
  } finally {
    await db.end();
  }
}

it('reads from the streaming replica with target_session_attrs=prefer-standby, and from the primary while the replica is away', async () => {
  const world = await createWorld({
    databaseUrl: `postgres://postgres@127.0.0.1:${PRIMARY_PORT}/postgres`,
    kafkaBrokers: inject('kafkaBrokers'),
  });
  await storeKnownEvents(world, 1_000);
  const database = new URL(world.databaseUrl).pathname;
  // The primary first in the list: prefer-standby still goes to the replica.
  const readerUrl = `postgres://postgres@127.0.0.1:${PRIMARY_PORT},127.0.0.1:${STANDBY_PORT}${database}?target_session_attrs=prefer-standby`;
  const api = await startApi({ env: { DATABASE_URL: readerUrl } });
  const count = async () => ((await (await api.get('/api/user/actions')).json()) as unknown[]).length;
  // Replication is asynchronous: the replica has the rows a moment later.
  await waitFor(count, (rows) => rows === 1_000, { what: 'the rows read from the replica' });
  expect(await apiSessionsOn(STANDBY_PORT)).toBeGreaterThan(0);
  expect(await apiSessionsOn(PRIMARY_PORT)).toBe(0);

  servers.standby.stop('fast');
  await waitFor(
    async () => (await api.get('/api/user/actions?limit=1')).status,
    (status) => status === 200,
    { what: 'reads from the primary once the replica is gone' },
  );
  expect(await apiSessionsOn(PRIMARY_PORT)).toBeGreaterThan(0);
  servers.standby.start();
  expect((await api.stop()).code).toBe(0);
});

it('answers 503 with Retry-After while PostgreSQL is stopped, stays up, and answers again once it is back', async () => {
  const world = await createWorld({
    databaseUrl: `postgres://postgres@127.0.0.1:${PRIMARY_PORT}/postgres`,
    kafkaBrokers: inject('kafkaBrokers'),
  });
  await storeKnownEvents(world, 100);
  const api = await startApi({ env: { DATABASE_URL: world.databaseUrl } });
  expect((await api.get('/api/user/actions?limit=1')).status).toBe(200);

  servers.standby.stop('fast');
  servers.primary.stop('fast');
  for (const path of [
    '/api/user/actions?limit=1',
    '/api/user/actions',
    '/api/user/actions/counts',
    '/api/user/actions/export?format=csv',
  ]) {
    const response = await api.get(path);
    expect(response.status, path).toBe(503);
    expect(response.headers.get('retry-after'), path).toBe('5');
    expect(response.headers.get('content-type'), path).toMatch(/^application\/problem\+json/);
  }
  const notReady = await waitFor(
    async () => api.get('/readyz', { token: null }),
    (response) => response.status === 503,
    { what: '/readyz saying PostgreSQL is away' },
  );
  expect(JSON.stringify(await notReady.json())).toMatch(/postgres/i);
  expect((await api.get('/healthz', { token: null })).status).toBe(200);

  servers.primary.start();
  servers.standby.start();
  await waitFor(
    async () => (await api.get('/api/user/actions?limit=1')).status,
    (status) => status === 200,
    { what: 'reads once PostgreSQL is back' },
  );
  await waitFor(
    async () => (await api.get('/readyz', { token: null })).status,
    (status) => status === 200,
    { what: 'ready again' },
  );
  expect(api.daemon.logs.filter((line) => line.level >= 50)).toEqual([]);
  expect((await api.stop()).code).toBe(0);
});
