import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FATAL_CODES, LOG_EVENT } from '@user-actions/shared';
import pg from 'pg';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { spawnDaemon } from '../support/daemon.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld, withDatabase } from '../support/world.js';

describe('the consumer and its database', () => {
  it("adopts the original system's table in place, keeping every row", async () => {
    const world = await createWorld();
    // Exactly what the original .NET consumer created, with rows it stored.
    await world.db.query(`CREATE TABLE useractions (
      id SERIAL PRIMARY KEY, userid UUID NOT NULL, action TEXT NOT NULL,
      ipaddress TEXT, device TEXT, timestamp TIMESTAMPTZ NOT NULL)`);
    await world.db.query(`INSERT INTO useractions (userid, action, ipaddress, device, timestamp)
      SELECT gen_random_uuid(), 'Login', '192.168.1.' || n, 'Chrome on Windows', now() FROM generate_series(1, 50) AS n`);

    const consumer = spawnDaemon('consumer', world.env);
    await consumer.waitForLog((line) => line.event === LOG_EVENT.tableReady && line.outcome === 'adopted');
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '100' });
    expect((await producer.exited).code).toBe(0);
    await world.waitForRows(150, 'old and new rows');
    expect(await waitUntilStable(world.rowCount)).toBe(150);

    const { rows } = await world.db.query(
      `SELECT count(DISTINCT event_id)::int AS ids, count(*) FILTER (WHERE ipaddress LIKE '192.168.1.%')::int AS old,
              (SELECT data_type FROM information_schema.columns WHERE table_name = 'useractions' AND column_name = 'id') AS id_type
       FROM useractions`,
    );
    expect(rows[0]).toEqual({ ids: 150, old: 50, id_type: 'bigint' });
    // Then moved into time partitions: the original rows are the history partition's.
    const history = await world.db.query(`SELECT count(*)::int AS n FROM useractions_history WHERE ipaddress LIKE '192.168.1.%'`);
    expect(history.rows[0].n).toBe(50);
    expect(new Set(Object.values(await world.timeIndexes()))).toEqual(new Set([1]));
    // The adopted rows are counted in the tallies once, the new ones as they were stored.
    expect(await world.untallied()).toEqual([]);
    expect((await consumer.stop()).code).toBe(0);
  });

  it('adds the metadata column to a table made by an earlier version, and fills it', async () => {
    const world = await createWorld();
    await world.db.query(sqlFor(DEFAULT_TABLE).createTable.replace(/,\s*metadata\s+JSONB/, ''));
    const consumer = spawnDaemon('consumer', world.env);
    await consumer.waitForLog((line) => line.event === LOG_EVENT.tableReady && line.outcome === 'extended');
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '20' });
    expect((await producer.exited).code).toBe(0);
    await world.waitForRows(20, '20 rows');
    const { rows } = await world.db.query("SELECT count(*)::int AS n FROM useractions WHERE metadata ? 'SessionId'");
    expect(rows[0].n).toBe(20);
    expect((await consumer.stop()).code).toBe(0);
  });

  it('stores into DATABASE_SCHEMA.DATABASE_TABLE, and adopts an original table there too', async () => {
    const world = await createWorld();
    await world.db.query('CREATE SCHEMA analytics');
    await world.db.query(`CREATE TABLE analytics.user_events (
      id SERIAL PRIMARY KEY, userid UUID NOT NULL, action TEXT NOT NULL,
      ipaddress TEXT, device TEXT, timestamp TIMESTAMPTZ NOT NULL)`);
    const env = { ...world.env, DATABASE_SCHEMA: 'analytics', DATABASE_TABLE: 'user_events' };
    const consumer = spawnDaemon('consumer', env);
    await consumer.waitForLog(
      (line) => line.event === LOG_EVENT.tableReady && line.outcome === 'adopted' && line.table === 'analytics.user_events',
    );
    const producer = spawnDaemon('producer', { ...env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '50' });
    expect((await producer.exited).code).toBe(0);
    const count = async () => Number((await world.db.query('SELECT count(*) FROM analytics.user_events')).rows[0].count);
    await waitFor(count, (rows) => rows >= 50, { what: '50 rows in analytics.user_events' });
    expect((await world.db.query("SELECT to_regclass('public.useractions') AS other")).rows[0].other).toBeNull();
    expect((await consumer.stop()).code).toBe(0);
  });

  it('takes DATABASE_URL from a secret file (DATABASE_URL_FILE) and never logs its password', async () => {
    const world = await createWorld();
    const url = new URL(world.databaseUrl);
    url.password = 'secret-from-a-file'; // ignored by the local server's trust authentication
    const secret = join(mkdtempSync(join(tmpdir(), 'user-actions-secret-')), 'database-url');
    writeFileSync(secret, `${url}\n`);
    const { DATABASE_URL: _, ...env } = world.env;

    const consumer = spawnDaemon('consumer', { ...env, DATABASE_URL_FILE: secret, LOG_LEVEL: 'debug' });
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '50' });
    expect((await producer.exited).code).toBe(0);
    await world.waitForRows(50, '50 rows');
    expect((await consumer.stop()).code).toBe(0);
    expect(JSON.stringify([consumer.logs, consumer.text])).not.toContain('secret-from-a-file');
  });

  it('runs with least privilege: with AUTO_MIGRATE=false it needs only SELECT and INSERT on the table, UPDATE on its offsets, and tallies made by the owner', async () => {
    const world = await createWorld();
    const role = `test_loader_${randomBytes(4).toString('hex')}`;
    await world.db.query(`CREATE ROLE ${role} LOGIN`);
    onTestFinished(async () => {
      const admin = new pg.Client({ connectionString: inject('databaseUrl') });
      await admin.connect();
      await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
    });
    const asLoader = new URL(world.databaseUrl);
    asLoader.username = role;
    const env = { ...world.env, DATABASE_URL: asLoader.toString(), AUTO_MIGRATE: 'false' };

    const early = spawnDaemon('consumer', env);
    expect((await early.exited).code).toBe(1);
    expect(early.logs.find((line) => line.level === 60)).toMatchObject({
      code: FATAL_CODES.postgresTable,
      msg: expect.stringContaining('AUTO_MIGRATE=false, but the table useractions'),
    });

    // What the README tells an administrator to run.
    const sql = sqlFor(DEFAULT_TABLE);
    await world.db.query(sql.createTable);
    await world.db.query(`GRANT SELECT, INSERT ON useractions TO ${role}`);
    const withoutOffsets = spawnDaemon('consumer', env);
    expect((await withoutOffsets.exited).code).toBe(1);
    expect(withoutOffsets.logs.find((line) => line.level === 60)).toMatchObject({
      code: FATAL_CODES.postgresTable,
      msg: expect.stringContaining('the offsets table useractions_offsets is not visible'),
    });
    await world.db.query(sql.createOffsetsTable);
    await world.db.query(`GRANT SELECT, INSERT, UPDATE ON useractions_offsets TO ${role}`);
    const withoutTallies = spawnDaemon('consumer', env);
    expect((await withoutTallies.exited).code).toBe(1);
    expect(withoutTallies.logs.find((line) => line.level === 60)).toMatchObject({
      code: FATAL_CODES.postgresTable,
      msg: expect.stringContaining('the tallies of useractions are not made yet; run the consumer once with AUTO_MIGRATE=true'),
    });
    // A consumer run once as the owner makes them (docs/operations.md).
    const owner = spawnDaemon('consumer', { ...world.env, DATABASE_PARTITION_INTERVAL: 'none' });
    await owner.waitForLog((line) => line.event === LOG_EVENT.tableReady);
    expect((await owner.stop()).code).toBe(0);
    const consumer = spawnDaemon('consumer', env);
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '50' });
    expect((await producer.exited).code).toBe(0);
    await world.waitForRows(50, '50 rows stored by the least-privileged role');
    expect((await consumer.stop()).code).toBe(0);
    expect(Number((await world.db.query('SELECT sum(next_offset) AS total FROM useractions_offsets')).rows[0].total)).toBe(50);
    expect(await world.untallied()).toEqual([]);
    await world.db.query(`REVOKE ALL ON useractions, useractions_offsets FROM ${role}`); // so that the role can be dropped
  });

  it('exits non-zero when PostgreSQL stays unreachable longer than MAX_OUTAGE_MS', async () => {
    const world = await createWorld();
    const proxy = await createTcpProxy({ host: '127.0.0.1', port: 5432 }); // never opened
    const unreachable = new URL(world.databaseUrl);
    unreachable.hostname = '127.0.0.1';
    unreachable.port = String(proxy.port);

    const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_URL: unreachable.toString(), MAX_OUTAGE_MS: '2000' });
    const exit = await consumer.exited;
    expect(exit.code).toBe(1);
    expect(consumer.logs.find((line) => line.level === 60)).toMatchObject({
      code: FATAL_CODES.outage,
      msg: expect.stringContaining('MAX_OUTAGE_MS'),
    });
  });

  it('stops with a clear message when the database does not exist, instead of retrying forever', async () => {
    const world = await createWorld();
    const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_URL: withDatabase(world.databaseUrl, 'no_such_database') });
    const exit = await consumer.exited;
    expect(exit.code).toBe(1);
    const fatal = consumer.logs.find((line) => line.level === 60);
    expect(fatal?.msg).toContain('the database named in DATABASE_URL does not exist');
    expect(fatal?.code).toBe(FATAL_CODES.postgresRefused);
    expect(consumer.logs.filter((line) => line.event === LOG_EVENT.waitingForPostgres)).toEqual([]);
  });
});
