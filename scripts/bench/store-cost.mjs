// The benchmark's store-cost phases: what one feature costs the consumer's store step, measured on the
// consumer's own insert in the same run as the rest — keeping each partition's offset in PostgreSQL, and
// the read side's index on ("timestamp", id), and the tallies of events per minute and second.
import { join } from 'node:path';
import { say } from './observe.mjs';
import { databaseUrl, repo, SIZES } from './settings.mjs';

const BATCH = 2_700;

/**
 * The catch-up rows stored again, in batches of the consumer's usual size, by the consumer's own insert
 * into two empty tables, one without the feature and one with it; the two alternate batch by batch (and
 * which goes first), so both meet the same server at the same moment. The cost is the median of each
 * batch's pair, taken one right after the other: a checkpoint or another process's burst lands on a few
 * pairs, not on the figure.
 * @param {import('pg').Client} db
 * @param {{ what: string, partitioned: boolean, without: (sql: any) => string[], moveOffsets: boolean }} feature
 */
async function storeCost(db, { what, partitioned, without, moveOffsets }) {
  const [{ createPool }, { insertRows }, { migrate }, { toCopyRows }, { sqlFor }, { createLogger }, { loadConsumerConfig }] =
    await Promise.all([
      import(join(repo, 'consumer/dist/connecting/pool.js')),
      import(join(repo, 'consumer/dist/writing/insert-rows.js')),
      import(join(repo, 'consumer/dist/schema/migration.js')),
      import(join(repo, 'consumer/dist/decoding/copy-rows.js')),
      import(join(repo, 'consumer/dist/sql/sql.js')),
      import(join(repo, 'shared/dist/logger.js')),
      import(join(repo, 'consumer/dist/config.js')),
    ]);
  say(`${what}: the catch-up rows stored again in batches of ${BATCH.toLocaleString('en')}, without and with it`);
  const { rows, batches } = await catchUpBatches(db, toCopyRows);
  const pool = createPool(databaseUrl, createLogger({ name: 'bench', level: 'silent' }));
  const policy = partitioned ? loadConsumerConfig({}).partitions : undefined;
  const bare = sqlFor({ name: 'useractions_cost_without' });
  const full = sqlFor({ name: 'useractions_cost_with' });
  try {
    await migrate(pool, bare, policy);
    await migrate(pool, full, policy);
    for (const statement of without(bare)) await db.query(statement);
    const { spent, ratios } = await alternately(batches, {
      bare: (batch) => insertRows(pool, bare, batch),
      full: (batch, move) => insertRows(pool, full, batch, moveOffsets ? { move } : {}),
    });
    const result = {
      withoutEps: rows.length / (spent.bare / 1000),
      withEps: rows.length / (spent.full / 1000),
      cost: (ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)] ?? 1) - 1,
    };
    say(
      `  [${what}] without ${Math.round(result.withoutEps).toLocaleString('en')}/s  with ${Math.round(result.withEps).toLocaleString('en')}/s  ` +
        `cost ${(result.cost * 100).toFixed(1)}%`,
    );
    return result;
  } finally {
    for (const sql of [bare, full]) {
      const { perMinute, perSecond } = sql.tallies;
      await db.query(`DROP TABLE IF EXISTS ${sql.display}, ${sql.offsetsDisplay}, ${perMinute}, ${perSecond}`);
      await db.query(`DROP FUNCTION IF EXISTS ${sql.display}_tally_add, ${sql.display}_tally_removed`);
    }
    await pool.end();
  }
}

/**
 * The catch-up rows, as the consumer's COPY rows in batches of BATCH.
 * @param {import('pg').Client} db
 * @param {(rows: object[]) => { length: number }} toCopyRows
 */
async function catchUpBatches(db, toCopyRows) {
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
  return { rows, batches };
}

/**
 * Each batch stored by both variants, one right after the other, which goes first alternating.
 * @param {{ length: number }[]} batches
 * @param {Record<'bare' | 'full', (batch: any, move: object) => Promise<unknown>>} store
 */
async function alternately(batches, store) {
  const spent = { bare: 0, full: 0 };
  /** @type {number[]} */
  const ratios = [];
  let offset = 0n;
  for (const [index, batch] of batches.entries()) {
    const move = { groupId: 'bench', topic: 'bench', partition: 0, from: offset, to: offset + BigInt(batch.length) };
    /** @type {['bare' | 'full', () => Promise<unknown>][]} */
    const runs = [
      ['bare', () => store.bare(batch, move)],
      ['full', () => store.full(batch, move)],
    ];
    const took = { bare: 0, full: 0 };
    for (const [variant, run] of index % 2 === 0 ? runs : runs.reverse()) {
      const startedAt = performance.now();
      await run();
      took[variant] = performance.now() - startedAt;
      spent[variant] += took[variant];
    }
    ratios.push(took.full / took.bare);
    offset = move.to;
  }
  return { spent, ratios };
}

/**
 * Keeping the offsets in PostgreSQL: plain tables on both sides (the partitions' cost is the catch-up phases' own).
 * @param {import('pg').Client} db
 */
export function offsetsCostPhase(db) {
  return storeCost(db, { what: 'offsets', partitioned: false, without: () => [], moveOffsets: true });
}

/**
 * Reading by time: partitioned tables as the consumer makes them, whose primary key is ("timestamp", id),
 * against the key before the read side, (id, "timestamp"), which reading by time cannot walk.
 * @param {import('pg').Client} db
 */
export function timeIndexCostPhase(db) {
  return storeCost(db, {
    what: 'time index',
    partitioned: true,
    without: (sql) => [
      `ALTER TABLE ${sql.display} DROP CONSTRAINT ${sql.display}_pkey`,
      `ALTER TABLE ${sql.display} ADD PRIMARY KEY (id, "timestamp")`,
    ],
    moveOffsets: false,
  });
}

/**
 * The tallies the API's counts and live page read: partitioned tables as the consumer makes them, one of
 * whose function adding a batch's counts does nothing.
 * @param {import('pg').Client} db
 */
export function tallyCostPhase(db) {
  return storeCost(db, {
    what: 'tallies',
    partitioned: true,
    without: (sql) => [
      `CREATE OR REPLACE FUNCTION ${sql.display}_tally_add(seconds bigint[], actions text[], counts bigint[]) RETURNS void LANGUAGE sql AS 'SELECT'`,
    ],
    moveOffsets: false,
  });
}
