import type { UserActionRow } from '@user-actions/shared/event/columns';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../consumer/src/connecting/pool.js';
import { toCopyRows } from '../../consumer/src/decoding/copy-rows.js';
import { migrate } from '../../consumer/src/schema/migration.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { insertRows } from '../../consumer/src/writing/insert-rows.js';
import { createLogger } from '../../shared/src/logger.js';
import { createWorld, DEFAULT_PARTITIONS, type World } from '../support/world.js';

const row = (eventId: string, device: string | null): UserActionRow => ({
  eventId,
  userId: '7f0c4b7e-0000-4000-8000-000000000001',
  action: 'PageView',
  ipAddress: null,
  device,
  timestamp: '2026-11-26T10:00:00.123Z',
  metadata: JSON.stringify({ Device: device, Query: 'tab\there "quoted" \\ back' }),
});

/** A fresh database with the consumer's table, and the consumer's insert of a batch of rows into it. */
async function withTable(test: (insert: (rows: UserActionRow[]) => Promise<number>, world: World) => Promise<void>) {
  const world = await createWorld();
  const pool = createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
  try {
    const sql = sqlFor(DEFAULT_TABLE);
    await migrate(pool, sql, DEFAULT_PARTITIONS);
    await test(async (rows) => (await insertRows(pool, sql, toCopyRows(rows))).inserted, world);
  } finally {
    await pool.end();
  }
}

describe('the batch insert', () => {
  it('stores text with tabs, newlines, backslashes and a literal \\N exactly as sent, and NULL as NULL', async () => {
    await withTable(async (insert, world) => {
      const devices = ['tab\there', 'new\nline\r\n', 'back\\slash \\N \\t', '\\N', 'émoji 🚀 "quoted", comma', null];
      const rows = devices.map((device, index) => row(`00000000-0000-4000-8000-00000000000${index}`, device));

      expect(await insert(rows)).toBe(rows.length);
      expect(await insert(rows)).toBe(0);

      const stored = await world.db.query<{ device: string | null; metadata: { Device: string | null; Query: string } }>(
        'SELECT device, metadata FROM useractions ORDER BY event_id',
      );
      expect(stored.rows.map((stored) => stored.device)).toEqual(devices);
      expect(stored.rows.map((stored) => stored.metadata)).toEqual(
        devices.map((device) => ({ Device: device, Query: 'tab\there "quoted" \\ back' })),
      );
    });
  });

  it('stores each event once when a batch repeats stored events, or holds the same event twice', async () => {
    await withTable(async (insert, world) => {
      const ids = Array.from({ length: 6 }, (_, index) => `00000000-0000-4000-8000-00000000010${index}`);
      const first = ids.slice(0, 3).map((id) => row(id, 'first'));
      const overlapping = ids.slice(1).map((id) => row(id, 'second'));
      const withItsOwnCopy = [row(ids[5] as string, 'third'), row('00000000-0000-4000-8000-000000000200', 'third')];

      expect(await insert(first)).toBe(3);
      expect(await insert(overlapping)).toBe(3);
      expect(await insert([...withItsOwnCopy, ...withItsOwnCopy])).toBe(1);

      const stored = await world.db.query<{ event_id: string; device: string; copies: number }>(
        'SELECT event_id, min(device) AS device, count(*)::int AS copies FROM useractions GROUP BY event_id ORDER BY event_id',
      );
      expect(stored.rows).toEqual([
        ...ids.map((id, index) => ({ event_id: id, device: index < 3 ? 'first' : 'second', copies: 1 })),
        { event_id: '00000000-0000-4000-8000-000000000200', device: 'third', copies: 1 },
      ]);
    });
  });
});
