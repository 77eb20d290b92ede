/**
 * A table made by the consumer's own migration and filled with known events straight in SQL, for the
 * read side's tests: every third event shares its timestamp with two others (the tie the keyset's `id`
 * breaks), devices with commas, quotes and newlines (what CSV must quote), every action in turn.
 */
import { ACTIONS } from '@user-actions/shared';
import { createPool } from '../../consumer/src/connecting/pool.js';
import { migrate } from '../../consumer/src/schema/migration.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { createLogger } from '../../shared/src/logger.js';
import { createWorld, DEFAULT_PARTITIONS, type World } from './world.js';

/** The first event's timestamp; each later trio a minute after the one before. */
export const FIRST_EVENT_AT = '2026-11-01T00:00:00Z';

export async function storeKnownEvents(world: World, count: number): Promise<void> {
  const pool = createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
  try {
    await migrate(pool, sqlFor(DEFAULT_TABLE), DEFAULT_PARTITIONS);
  } finally {
    await pool.end();
  }
  await world.db.query(
    `INSERT INTO useractions (event_id, userid, action, ipaddress, device, "timestamp", metadata)
     SELECT gen_random_uuid(),
            ('00000000-0000-4000-8000-' || lpad((i % 7)::text, 12, '0'))::uuid,
            ($2::text[])[1 + i % 16],
            '10.0.' || (i % 256) || '.' || (i % 7),
            CASE i % 5 WHEN 0 THEN 'Chrome, on "Linux"' WHEN 1 THEN E'line\\nbreak' WHEN 2 THEN NULL ELSE 'Safari' END,
            $1::timestamptz + (i / 3) * interval '1 minute',
            jsonb_build_object('Browser', 'Chrome', 'n', i)
     FROM generate_series(0, $3 - 1) AS i`,
    [FIRST_EVENT_AT, ACTIONS, count],
  );
  // Written around the consumer: counted again, as docs/api.md says to.
  for (const statement of sqlFor(DEFAULT_TABLE).tallies.recount) await world.db.query(statement);
}

/** Minutes after the first event, as the API's bounds take it. */
export function minutesAfterFirst(minutes: number): string {
  return new Date(Date.parse(FIRST_EVENT_AT) + minutes * 60_000).toISOString();
}

/** How many known events a `knownWorld` holds. */
export const KNOWN_EVENTS = 3_000;

/** A world whose table holds the known events. */
export async function knownWorld(): Promise<World> {
  const world = await createWorld();
  await storeKnownEvents(world, KNOWN_EVENTS);
  return world;
}

/** The ids PostgreSQL holds for a WHERE clause, in the API's order. */
export async function idsWhere(world: World, where: string, values: unknown[] = []): Promise<number[]> {
  const { rows } = await world.db.query(`SELECT id FROM useractions ${where} ORDER BY "timestamp", id`, values);
  return rows.map((row) => Number(row.id));
}
