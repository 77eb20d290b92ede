/**
 * Every wait on PostgreSQL is bounded: a lock wait past the statement timeout fails (to be retried)
 * without committing anything, and a connection that goes silent mid-COPY is abandoned, its session on
 * the server ended before the same rows are stored again on a fresh connection.
 */
import { Readable } from 'node:stream';
import { isRetryable } from '@user-actions/shared';
import { postgresVerdict } from '@user-actions/shared/postgres/errors';
import { from as copyFrom } from 'pg-copy-streams';
import { expect, it, onTestFinished } from 'vitest';
import { SILENCE_GRACE_MS, SilentConnectionError } from '../../consumer/src/connecting/connection-guard.js';
import { createPool, type Pool } from '../../consumer/src/connecting/pool.js';
import { toCopyRows } from '../../consumer/src/decoding/copy-rows.js';
import { migrate } from '../../consumer/src/schema/migration.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { insertRows } from '../../consumer/src/writing/insert-rows.js';
import { createLogger } from '../../shared/src/logger.js';
import { numberedRow } from '../support/events.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { createWorld, DEFAULT_PARTITIONS, type World } from '../support/world.js';

const sql = sqlFor(DEFAULT_TABLE);
const STATEMENT_MS = 1_500;

const rows = (from: number, count: number) => toCopyRows(Array.from({ length: count }, (_, index) => numberedRow(from + index)));

function consumerPool(databaseUrl: string): Pool {
  const pool = createPool(databaseUrl, createLogger({ name: 'test', level: 'silent' }), {
    statementMs: STATEMENT_MS,
    connectMs: 2_000,
  });
  onTestFinished(() => pool.end());
  return pool;
}

const throughProxy = (world: World, port: number) => {
  const url = new URL(world.databaseUrl);
  url.host = `127.0.0.1:${port}`;
  return url.toString();
};

it("sets the server-side bounds on the consumer's sessions", async () => {
  const world = await createWorld();
  const pool = consumerPool(world.databaseUrl);
  const settings = await pool.guard.run('batch', async (client) => {
    const { rows: found } = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN
        ('statement_timeout', 'idle_in_transaction_session_timeout', 'tcp_keepalives_idle', 'tcp_keepalives_count', 'tcp_user_timeout')`,
    );
    return Object.fromEntries(found.map(({ name, setting }) => [name, setting]));
  });
  expect(settings).toEqual({
    statement_timeout: String(STATEMENT_MS),
    idle_in_transaction_session_timeout: String(STATEMENT_MS),
    // Loopback TCP reports its keepalive settings like any other socket.
    tcp_keepalives_idle: '10',
    tcp_keepalives_count: '3',
    tcp_user_timeout: '25000',
  });
});

it('ends a lock wait at the statement timeout with a transient error, storing nothing, and stores once the lock is gone', async () => {
  const world = await createWorld();
  const pool = consumerPool(world.databaseUrl);
  await migrate(pool, sql, DEFAULT_PARTITIONS);
  const holder = await world.db.connect();
  onTestFinished(() => holder.release(true));
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE useractions IN ACCESS EXCLUSIVE MODE');

  const started = Date.now();
  const error = await insertRows(pool, sql, rows(0, 10), {
    move: { groupId: 'g', topic: 't', partition: 0, from: 0n, to: 10n },
  }).then(
    () => undefined,
    (caught: Error) => caught,
  );
  expect(error).toMatchObject({ code: '57014' });
  expect(isRetryable(error, postgresVerdict)).toBe(true);
  expect(Date.now() - started).toBeLessThan(STATEMENT_MS + SILENCE_GRACE_MS);
  await holder.query('COMMIT');

  expect(await world.rowCount()).toBe(0);
  expect(await world.storedOffsets()).toEqual(new Map());
  expect(
    await insertRows(pool, sql, rows(0, 10), { move: { groupId: 'g', topic: 't', partition: 0, from: 0n, to: 10n } }),
  ).toEqual({ inserted: 10, expired: 0, move: { moved: true } });
});

it('abandons a connection that goes silent mid-COPY, and ends its session before the rows are stored again', async () => {
  const world = await createWorld();
  const target = new URL(world.databaseUrl);
  const link = await createTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await link.open();
  const pool = consumerPool(throughProxy(world, link.port));
  await migrate(pool, sql, DEFAULT_PARTITIONS);
  const batch = rows(0, 3_000);

  // A COPY that has sent its first rows, then hears nothing more from the server (nor the server from it).
  let pid = 0;
  const abandoned = pool.guard.run('batch', async (client) => {
    pid = (client as unknown as { processID: number }).processID;
    await client.query('BEGIN');
    const copy = client.query(copyFrom(sql.copyIntoTable));
    copy.on('error', () => undefined); // the connection's end, which the guard reports
    Readable.from([batch.text.subarray(0, batch.text.lastIndexOf('\n', batch.text.length / 2) + 1)]).pipe(copy, {
      end: false,
    });
    await new Promise(() => undefined);
  });
  const copied = () =>
    world.db
      .query<{ n: string }>('SELECT tuples_processed AS n FROM pg_stat_progress_copy WHERE pid = $1', [pid])
      .then((result) => Number(result.rows[0]?.n ?? 0));
  // COPY writes its rows in buffers of 1,000: once some are in the table they hold their keys in the index.
  await waitFor(copied, (count) => count >= 1_000, { what: 'the COPY to have written rows', timeoutMs: 10_000 });
  link.hold();
  const heldAt = Date.now();

  await expect(abandoned).rejects.toBeInstanceOf(SilentConnectionError);
  // Counted from the last word the server sent, a little before the link went silent.
  expect(Date.now() - heldAt).toBeLessThan(STATEMENT_MS + SILENCE_GRACE_MS + 1_000);
  // The server has not noticed: its session is still in the COPY, holding those rows' keys.
  const session = await world.db.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid]);
  expect(session.rows).toEqual([{ state: 'active' }]);
  expect(pool.guard.staleSessions).toBe(1);

  // The retry (new connections still pass the link) ends that session first, then stores every row once.
  const retryStarted = Date.now();
  expect(await insertRows(pool, sql, batch, { move: { groupId: 'g', topic: 't', partition: 0, from: 0n, to: 3_000n } })).toEqual({
    inserted: 3_000,
    expired: 0,
    move: { moved: true },
  });
  expect(Date.now() - retryStarted).toBeLessThan(STATEMENT_MS);
  expect(pool.guard.staleSessions).toBe(0);
  expect((await world.db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount).toBe(0);
  expect(await world.rowCount()).toBe(3_000);
});
