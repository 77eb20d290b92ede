import { describe, expect, it } from 'vitest';
import { createPool, insertRows, migrate } from '../../consumer/src/db.js';
import type { UserActionRow } from '../../consumer/src/decode.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql.js';
import { createLogger } from '../../shared/src/logger.js';
import { createWorld } from '../support/world.js';

const row = (eventId: string, device: string | null): UserActionRow => ({
  eventId,
  userId: '7f0c4b7e-0000-4000-8000-000000000001',
  action: 'PageView',
  ipAddress: null,
  device,
  timestamp: '2026-11-26T10:00:00.123Z',
  metadata: JSON.stringify({ Device: device, Query: 'tab\there "quoted" \\ back' }),
});

describe('the COPY path of the batch insert', () => {
  it('stores text with tabs, newlines, backslashes and a literal \\N exactly as sent, and NULL as NULL', async () => {
    const world = await createWorld();
    const pool = createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
    try {
      const sql = sqlFor(DEFAULT_TABLE);
      await migrate(pool, sql);
      const devices = ['tab\there', 'new\nline\r\n', 'back\\slash \\N \\t', '\\N', 'émoji 🚀 "quoted", comma', null];
      const rows = devices.map((device, index) => row(`00000000-0000-4000-8000-00000000000${index}`, device));

      expect(await insertRows(pool, sql, rows)).toBe(rows.length);
      expect(await insertRows(pool, sql, rows)).toBe(0);

      const stored = await world.db.query<{ device: string | null; metadata: { Device: string | null; Query: string } }>(
        'SELECT device, metadata FROM useractions ORDER BY event_id',
      );
      expect(stored.rows.map((stored) => stored.device)).toEqual(devices);
      expect(stored.rows.map((stored) => stored.metadata)).toEqual(
        devices.map((device) => ({ Device: device, Query: 'tab\there "quoted" \\ back' })),
      );
    } finally {
      await pool.end();
    }
  });
});
