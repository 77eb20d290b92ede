// The benchmark's offsets phase: what keeping each partition's offset in PostgreSQL costs the store step,
// measured on the consumer's own insert in the same run as the rest.
import { join } from 'node:path';
import pg from 'pg';
import { say } from './observe.mjs';
import { databaseUrl, repo, SIZES } from './settings.mjs';

/**
 * What keeping the offsets in PostgreSQL costs the store: the catch-up rows stored again, in batches of
 * the consumer's usual size, by the consumer's own insert into two empty copies of the table, with and
 * without the offset's move in the transaction; the two alternate batch by batch (and which goes first),
 * so both meet the same server at the same moment.
 */
/** @param {pg.Client} db */
export async function offsetsCostPhase(db) {
  const BATCH = 2_700;
  const [{ createPool, insertRows }, { migrate }, { toCopyRows }, { sqlFor }, { createLogger }] = await Promise.all([
    import(join(repo, 'consumer/dist/storing/db.js')),
    import(join(repo, 'consumer/dist/storing/migration.js')),
    import(join(repo, 'consumer/dist/storing/copy-text.js')),
    import(join(repo, 'consumer/dist/storing/sql.js')),
    import(join(repo, 'shared/dist/logger.js')),
  ]);
  say(
    `offsets: the catch-up rows stored again in batches of ${BATCH.toLocaleString('en')}, with and without the offset in PostgreSQL`,
  );
  const { rows } = await db.query(
    `SELECT event_id, userid, action, ipaddress, device, timestamp, metadata FROM useractions ORDER BY id LIMIT ${SIZES.backlog}`,
  );
  const batches = [];
  for (let start = 0; start < rows.length; start += BATCH) {
    batches.push(
      toCopyRows(
        rows.slice(start, start + BATCH).map((row) => ({
          eventId: row.event_id,
          userId: row.userid,
          action: row.action,
          ipAddress: row.ipaddress,
          device: row.device,
          timestamp: row.timestamp.toISOString(),
          metadata: row.metadata === null ? null : JSON.stringify(row.metadata),
        })),
      ),
    );
  }
  const pool = createPool(databaseUrl, createLogger({ name: 'bench', level: 'silent' }));
  const plain = sqlFor({ name: 'useractions_cost_plain' });
  const moving = sqlFor({ name: 'useractions_cost_offsets' });
  try {
    // Plain tables on both sides: the offsets' cost alone (the partitions' is the catch-up phases' own).
    await migrate(pool, plain, undefined);
    await migrate(pool, moving, undefined);
    const spent = { plain: 0, moving: 0 };
    /** @type {number[]} */
    const ratios = [];
    let offset = 0n;
    for (const [index, batch] of batches.entries()) {
      const move = { groupId: 'bench', topic: 'bench', partition: 0, from: offset, to: offset + BigInt(batch.length) };
      /** @type {['plain' | 'moving', () => Promise<unknown>][]} */
      const runs = [
        ['plain', () => insertRows(pool, plain, batch)],
        ['moving', () => insertRows(pool, moving, batch, { move })],
      ];
      const took = { plain: 0, moving: 0 };
      for (const [variant, run] of index % 2 === 0 ? runs : runs.reverse()) {
        const startedAt = performance.now();
        await run();
        took[variant] = performance.now() - startedAt;
        spent[variant] += took[variant];
      }
      ratios.push(took.moving / took.plain);
      offset = move.to;
    }
    const result = {
      plainEps: rows.length / (spent.plain / 1000),
      movingEps: rows.length / (spent.moving / 1000),
      // The median of each batch's pair, taken one right after the other: a checkpoint or another
      // process's burst lands on a few pairs, not on the figure.
      cost: (ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? 1) - 1,
    };
    say(
      `  [offsets] without ${Math.round(result.plainEps).toLocaleString('en')}/s  with ${Math.round(result.movingEps).toLocaleString('en')}/s  ` +
        `cost ${(result.cost * 100).toFixed(1)}%`,
    );
    return result;
  } finally {
    for (const sql of [plain, moving]) await db.query(`DROP TABLE IF EXISTS ${sql.display}, ${sql.offsetsDisplay}`);
    await pool.end();
  }
}
