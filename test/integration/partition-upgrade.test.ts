/**
 * The consumer moves today's plain table into time partitions in place, with another consumer loading
 * into it; and while it loads it drops what falls out of the retention window and routes events outside
 * the window as the docs say: older ones counted as expired, ones far ahead dead-lettered with the reason.
 */
import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { createPool } from '../../consumer/src/connecting/pool.js';
import { toCopyRows } from '../../consumer/src/decoding/copy-rows.js';
import { migrate } from '../../consumer/src/schema/migration.js';
import { addTime, intervalStart, partitionSuffix } from '../../consumer/src/schema/partition-layout.js';
import { maintainPartitions } from '../../consumer/src/schema/partition-maintenance.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { insertRows } from '../../consumer/src/writing/insert-rows.js';
import { createLogger } from '../../shared/src/logger.js';
import { spawnDaemon } from '../support/daemon.js';
import { numberedRow, onOnePartition, userAction } from '../support/events.js';
import { readTopic } from '../support/kafka.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const sql = sqlFor(DEFAULT_TABLE);
const EXISTING = 1_000_000;
const PRODUCED = 5_000;

const distinctEvents = async (db: { query: (text: string) => Promise<{ rows: { n: string }[] }> }) =>
  Number((await db.query('SELECT count(DISTINCT event_id) AS n FROM useractions')).rows[0]?.n);

it('moves a plain table of a million rows into partitions in place while another consumer loads into it', async () => {
  const world = await createWorld();
  const pool = createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
  try {
    await migrate(pool, sql, undefined); // the layout before partitions
  } finally {
    await pool.end();
  }
  await world.db.query(
    `INSERT INTO useractions (event_id, userid, action, "timestamp")
     SELECT gen_random_uuid(), gen_random_uuid(), 'Login', now() - (i % 5184000) * interval '1 second'
     FROM generate_series(1, ${EXISTING}) i`,
  );
  // As a table of a version before the tallies: the next migration counts its rows.
  await world.db.query('DROP TABLE useractions_per_minute, useractions_per_second');
  const plain = spawnDaemon('consumer', { ...world.env, DATABASE_PARTITION_INTERVAL: 'none' });
  await plain.waitForLog((line) => line.event === LOG_EVENT.consuming);
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '1', PRODUCER_COUNT: String(PRODUCED) });
  await world.waitForRows(EXISTING + 500, 'the plain consumer loading');

  const upgrading = spawnDaemon('consumer', world.env);
  const moved = await upgrading.waitForLog((line) => line.msg.startsWith('moved the table into time partitions'), 120_000);
  process.stdout.write(`moved a table of ${moved.rows} rows into partitions in place in ${moved.ms} ms\n`);
  expect(moved.rows).toBeGreaterThan(EXISTING);
  expect((await producer.exited).code).toBe(0);

  await world.waitForRows(EXISTING + PRODUCED, 'every event');
  expect(await waitUntilStable(world.rowCount, { stableMs: 2_000 })).toBe(EXISTING + PRODUCED);
  expect(await distinctEvents(world.db)).toBe(EXISTING + PRODUCED);
  const kind = await world.db.query(`SELECT relkind FROM pg_class WHERE oid = 'useractions'::regclass`);
  expect(kind.rows).toEqual([{ relkind: 'p' }]);
  const history = await world.db.query('SELECT count(*)::int AS n FROM useractions_history');
  expect(history.rows[0].n).toBeGreaterThanOrEqual(EXISTING);
  // The read side's index, on the moved table and on every partition.
  const indexes = await world.timeIndexes();
  expect(Object.keys(indexes).length).toBeGreaterThan(2);
  expect(new Set(Object.values(indexes))).toEqual(new Set([1]));
  // The tallies counted the plain table's million rows, then kept counting through the move.
  expect(await world.untallied()).toEqual([]);
  expect((await plain.stop()).code).toBe(0);
  expect((await upgrading.stop()).code).toBe(0);
});

it('drops partitions outside the retention window while a consumer loads; counts older events, dead-letters ones far ahead', async () => {
  const world = await createWorld();
  const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_RETENTION: '5 days' });
  await consumer.waitForLog((line) => line.event === LOG_EVENT.consuming);
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '1', PRODUCER_COUNT: String(PRODUCED) });

  // While it loads: old days appear (a restore, say), with rows, and another round of maintenance drops them.
  const pool = createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
  try {
    const today = intervalStart('day', new Date());
    for (let back = 12; back >= 8; back--) {
      const from = addTime('day', today, -back);
      for (const statement of sql.createPartition(partitionSuffix('day', from), from, addTime('day', from, 1))) {
        await world.db.query(statement);
      }
      const rows = Array.from({ length: 10 }, (_, index) => ({
        ...numberedRow(back * 100 + index),
        timestamp: new Date(from.getTime() + 3_600_000).toISOString(),
      }));
      await insertRows(pool, sql, toCopyRows(rows));
    }
    const round = await pool.guard.run('batch', (client) =>
      maintainPartitions(client, sql, { unit: 'day', retention: { count: 5, unit: 'day' } }, new Date()),
    );
    expect(round?.dropped).toHaveLength(5);
  } finally {
    await pool.end();
  }

  const now = Date.now();
  const outside = [
    userAction({ Timestamp: new Date(now - 40 * 86_400_000).toISOString() }),
    userAction({ Timestamp: new Date(now - 6 * 86_400_000).toISOString() }),
    userAction({ Timestamp: '9999-01-01T00:00:00Z' }),
  ];
  const sender = world.kafka.producer();
  await sender.connect();
  await sender.send({ topic: world.topic, messages: onOnePartition(outside) });
  await sender.disconnect();

  expect((await producer.exited).code).toBe(0);
  await world.waitForRows(PRODUCED, 'every event inside the window');
  const summed = (counter: string) =>
    consumer.logs
      .filter((line) => line.event === LOG_EVENT.loaderSummary)
      .reduce((sum, line) => sum + Number(line[counter] ?? 0), 0);
  await waitFor(
    () => summed('expired'),
    (expired) => expired === 2,
    { what: 'the two events older than the window counted' },
  );
  const letters = await waitFor(
    () => readTopic(world.kafka, world.admin, `${world.topic}.dlq`).catch(() => []),
    (found) => found.length === 1,
    { what: 'the event far ahead dead-lettered' },
  );
  expect(letters[0]?.headers['dlq.error']).toMatch(/no partition of relation "useractions" found for row/);
  expect(await waitUntilStable(world.rowCount)).toBe(PRODUCED);
  expect((await consumer.stop()).code).toBe(0);
});
