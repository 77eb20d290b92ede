/**
 * The table is partitioned by time: partitions made ahead of the clock (crossing boundaries with an
 * injected clock), dropped once outside the retention window, made and dropped safely by consumers
 * racing; events outside the window go where the docs say; time-range queries read only the partitions
 * they need; a redelivered event is still a no-op.
 */
import { describe, expect, it } from 'vitest';
import { toCopyRows } from '../../consumer/src/storing/copy-text.js';
import { createPool, insertRows, type Pool } from '../../consumer/src/storing/db.js';
import { migrate } from '../../consumer/src/storing/migration.js';
import { maintainPartitions, type PartitionPolicy } from '../../consumer/src/storing/partition-maintenance.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/storing/sql.js';
import { createLogger } from '../../shared/src/logger.js';
import { numberedRow } from '../support/events.js';
import { createWorld, type World } from '../support/world.js';

const sql = sqlFor(DEFAULT_TABLE);
const DAY: PartitionPolicy = { unit: 'day' };
const NOW = new Date('2026-12-01T10:00:00Z');

function poolOf(world: World): Pool {
  return createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
}

/** A consumer's pool on the world's database for `work`, closed after it. */
async function usingPool(world: World, work: (pool: Pool) => Promise<void>): Promise<void> {
  const pool = poolOf(world);
  try {
    await work(pool);
  } finally {
    await pool.end();
  }
}

/** The table's partitions and their bounds, oldest first. */
async function partitionsOf(world: World): Promise<string[]> {
  const { rows } = await world.db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'useractions'::regclass
     ORDER BY c.relname`,
  );
  return rows.map(({ name }) => name);
}

const rowAt = (index: number, timestamp: string) => ({ ...numberedRow(index), timestamp });

async function maintain(pool: Pool, policy: PartitionPolicy, now: Date) {
  return pool.guard.run('batch', (client) => maintainPartitions(client, sql, policy, now));
}

describe('a time-partitioned table', () => {
  it('is made with the history partition and the current day and three ahead, and one more as each day begins', async () => {
    const world = await createWorld();
    await usingPool(world, async (pool) => {
      const migration = await migrate(pool, sql, DAY, NOW);
      expect(migration.outcome).toBe('created');
      expect(await partitionsOf(world)).toEqual([
        'useractions_history',
        'useractions_p20261201',
        'useractions_p20261202',
        'useractions_p20261203',
        'useractions_p20261204',
      ]);
      // A minute before midnight nothing is due; a second after it, the next day ahead is.
      expect(await maintain(pool, DAY, new Date('2026-12-01T23:59:00Z'))).toEqual({ created: [], dropped: [] });
      expect(await maintain(pool, DAY, new Date('2026-12-02T00:00:01Z'))).toEqual({
        created: ['useractions_p20261205'],
        dropped: [],
      });
      const { rows } = await world.db.query(
        `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE relname = 'useractions_p20261205'`,
      );
      expect(rows[0].bound).toMatch(/FROM \('2026-12-05 00:00:00\+00'\) TO \('2026-12-06 00:00:00\+00'\)/);
      // A partition attached later gets the read side's index too.
      expect(await world.timeIndexes()).toMatchObject({ useractions: true, useractions_p20261205: true });
    });
  });

  it('drops partitions wholly older than the retention window, and keeps every row inside it', async () => {
    const world = await createWorld();
    await usingPool(world, async (pool) => {
      await migrate(pool, sql, DAY, new Date('2026-11-20T10:00:00Z'));
      await maintain(pool, DAY, NOW);
      // One row a day from Nov 20 to Dec 1.
      const days = Array.from({ length: 12 }, (_, day) => rowAt(day, new Date(Date.UTC(2026, 10, 20 + day, 12)).toISOString()));
      expect((await insertRows(pool, sql, toCopyRows(days))).inserted).toBe(12);
      const withRetention: PartitionPolicy = { unit: 'day', retention: { count: 5, unit: 'day' } };
      const result = await maintain(pool, withRetention, NOW);
      // The window starts Nov 26, 10:00: Nov 25 and everything before it are wholly outside.
      expect(result?.dropped).toEqual([
        'useractions_history',
        ...['20', '21', '22', '23', '24', '25'].map((day) => `useractions_p202611${day}`),
      ]);
      const { rows } = await world.db.query<{ day: string }>(
        `SELECT to_char("timestamp" AT TIME ZONE 'UTC', 'MM-DD') AS day FROM useractions ORDER BY 1`,
      );
      expect(rows.map(({ day }) => day)).toEqual(['11-26', '11-27', '11-28', '11-29', '11-30', '12-01']);
    });
  });

  it('makes partitions while a transaction writes to the table, and leaves a drop that would wait for it to the next round', async () => {
    const world = await createWorld();
    await usingPool(world, async (pool) => {
      await migrate(pool, sql, DAY, new Date('2026-11-20T10:00:00Z'));
      await maintain(pool, DAY, NOW);
      const writer = await world.db.connect();
      try {
        await writer.query('BEGIN');
        await writer.query(
          'INSERT INTO useractions (event_id, userid, action, "timestamp") VALUES (gen_random_uuid(), gen_random_uuid(), $1, now())',
          ['Login'],
        );
        expect((await maintain(pool, DAY, new Date('2026-12-02T00:00:01Z')))?.created).toEqual(['useractions_p20261205']);
        const policy: PartitionPolicy = { unit: 'day', retention: { count: 5, unit: 'day' } };
        const started = Date.now();
        const result = await maintain(pool, policy, NOW);
        expect(result?.dropped).toEqual([]);
        expect(Date.now() - started).toBeLessThan(5_000); // one wait of 2 s, not one per partition
        await writer.query('COMMIT');
        expect((await maintain(pool, policy, NOW))?.dropped).toContain('useractions_history');
      } finally {
        writer.release();
      }
    });
  });

  it('takes turns when three consumers maintain at once: every partition made once, none dropped twice', async () => {
    const world = await createWorld();
    const pools = [poolOf(world), poolOf(world), poolOf(world)];
    try {
      await migrate(pools[0] as Pool, sql, DAY, new Date('2026-11-01T10:00:00Z'));
      const policy: PartitionPolicy = { unit: 'day', retention: { count: 10, unit: 'day' } };
      for (const day of [10, 20, 30]) {
        const now = new Date(Date.UTC(2026, 10, day, 10));
        const results = await Promise.all(pools.map((pool) => maintain(pool, policy, now)));
        const created = results.flatMap((result) => result?.created ?? []);
        expect(new Set(created).size).toBe(created.length);
      }
      const names = await partitionsOf(world);
      expect(names[0]).toBe('useractions_p20261120');
      expect(names.at(-1)).toBe('useractions_p20261203');
      expect(names).toHaveLength(14);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('stores a replayed event once, counts an event older than the window as expired, and refuses one far ahead', async () => {
    const world = await createWorld();
    await usingPool(world, async (pool) => {
      const policy: PartitionPolicy = { unit: 'day', retention: { count: 30, unit: 'day' } };
      await migrate(pool, sql, policy);
      const now = new Date();
      const cutoff = new Date(now.getTime() - 30 * 86_400_000);
      const current = rowAt(1, now.toISOString());
      expect(await insertRows(pool, sql, toCopyRows([current]), { cutoff })).toEqual({ inserted: 1, expired: 0 });
      // The same event again (a replay keeps its timestamp), beside one older than the window.
      const old = rowAt(2, new Date(now.getTime() - 40 * 86_400_000).toISOString());
      expect(await insertRows(pool, sql, toCopyRows([current, old]), { cutoff })).toEqual({ inserted: 0, expired: 1 });
      await expect(insertRows(pool, sql, toCopyRows([rowAt(3, '9999-01-01T00:00:00Z')]), { cutoff })).rejects.toMatchObject({
        code: '23514',
        message: expect.stringMatching(/no partition of relation "useractions" found for row/),
      });
      expect(await world.rowCount()).toBe(1);
    });
  });

  it('reads only the partitions a time range needs', async () => {
    const world = await createWorld();
    const pool = poolOf(world);
    const hourly: PartitionPolicy = { unit: 'hour' };
    try {
      // Ten days of hourly partitions: 270 in all.
      await migrate(pool, sql, hourly, new Date('2026-11-21T10:00:00Z'));
      await maintain(pool, hourly, NOW);
      expect((await partitionsOf(world)).length).toBeGreaterThan(250);
      const plan = await world.db.query(
        `EXPLAIN (FORMAT JSON) SELECT action, count(*) FROM useractions
         WHERE "timestamp" >= '2026-11-30T08:00:00Z' AND "timestamp" < '2026-11-30T10:00:00Z' GROUP BY action`,
      );
      const scanned = JSON.stringify(plan.rows[0]['QUERY PLAN']).match(/"Relation Name":"[^"]+"/g) ?? [];
      expect(scanned.sort()).toEqual(['"Relation Name":"useractions_p2026113008"', '"Relation Name":"useractions_p2026113009"']);
    } finally {
      await pool.end();
    }
  });
});
