/** A batch's rows into the table, with the partition's offset in the same transaction. */

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { codeOf } from '@user-actions/shared';
import { SQLSTATE } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Pool } from '../connecting/pool.js';
import type { CopyRows } from '../decoding/copy-rows.js';
import type { InsertResult, OffsetMove } from '../loading/postgres-port.js';
import { COPY_INTO_STAGING, COUNT_EXPIRED, CREATE_STAGING, type TableSql } from '../sql/sql.js';
import { moveOffset, offsetElsewhere } from './offsets.js';

/** Where the rows go and what is skipped: the offset's move, and the retention window's start. */
export interface InsertOptions {
  move?: { groupId: string } & OffsetMove;
  cutoff?: Date;
}

/**
 * Stores the rows atomically, and with `move` the partition's offset in the same transaction. The fast
 * path is one COPY into the table; a batch holding an already-stored event, or an event with no
 * partition to go to, fails it as a whole, and is then stored through the staging table, which skips
 * stored events and counts those before `cutoff` (an event with no partition after `cutoff`, too far
 * ahead of the clock, still fails: it is dead-lettered by the caller, as a refused row).
 */
export async function insertRows(pool: Pool, sql: TableSql, rows: CopyRows, options: InsertOptions = {}): Promise<InsertResult> {
  const { move, cutoff } = options;
  if (rows.length === 0 && move === undefined) return { inserted: 0, expired: 0 };
  // A connection whose transaction failed is closed (which rolls it back) rather than reused half-way.
  return pool.guard.run('batch', (client) =>
    move === undefined ? insertAlone(client, sql, rows, cutoff) : insertMoving(client, sql, rows, move, cutoff),
  );
}

async function insertAlone(client: pg.PoolClient, sql: TableSql, rows: CopyRows, cutoff?: Date): Promise<InsertResult> {
  try {
    await copyRows(client, sql.beginAndCopy, rows.text);
    await client.query(`${sql.tallies.add(rows.countsPerSecond())}; COMMIT`);
    return { inserted: rows.length, expired: 0 };
  } catch (error) {
    await client.query('ROLLBACK');
    if (!needsStaging(error)) throw error;
  }
  await client.query('BEGIN');
  const result = await insertSkippingStored(client, sql, rows.text, cutoff);
  await client.query('COMMIT');
  return result;
}

async function insertMoving(
  client: pg.PoolClient,
  sql: TableSql,
  rows: CopyRows,
  { groupId, ...move }: { groupId: string } & OffsetMove,
  cutoff?: Date,
): Promise<InsertResult> {
  if (rows.length === 0) return { inserted: 0, expired: 0, move: await moveOffset(client, sql, groupId, move) };
  let result = { inserted: rows.length, expired: 0 };
  // The COPY's rows are added to the tallies with the COMMIT, in the same round trip.
  let commit = `${sql.tallies.add(rows.countsPerSecond())}; COMMIT`;
  try {
    // The offset first: a batch that does not continue the table costs no COPY.
    await copyRows(client, sql.beginMovingOffsetAndCopy(groupId, move), rows.text);
  } catch (error) {
    await client.query('ROLLBACK');
    const stored = offsetElsewhere(error);
    if (stored !== undefined) return { inserted: 0, expired: 0, move: { moved: false, stored } };
    if (!needsStaging(error)) throw error;
    try {
      await client.query(sql.beginMovingOffset(groupId, move));
    } catch (moveError) {
      await client.query('ROLLBACK');
      const storedNow = offsetElsewhere(moveError);
      if (storedNow !== undefined) return { inserted: 0, expired: 0, move: { moved: false, stored: storedNow } };
      throw moveError;
    }
    result = await insertSkippingStored(client, sql, rows.text, cutoff);
    commit = 'COMMIT';
  }
  await client.query(commit);
  return { ...result, move: { moved: true } };
}

async function copyRows(client: pg.PoolClient, copyStatement: string, text: Buffer): Promise<void> {
  await pipeline(Readable.from([text]), client.query(copyFrom(copyStatement)));
}

/** In the caller's transaction: the staging table is emptied at its commit. */
async function insertSkippingStored(
  client: pg.PoolClient,
  sql: TableSql,
  text: Buffer,
  cutoff: Date | undefined,
): Promise<{ inserted: number; expired: number }> {
  await client.query(CREATE_STAGING);
  await copyRows(client, COPY_INTO_STAGING, text);
  const from = cutoff?.toISOString() ?? '-infinity';
  const { rows } = await client.query<{ inserted: number }>(sql.insertFromStaging, [from]);
  const expired =
    cutoff === undefined ? 0 : ((await client.query<{ expired: number }>(COUNT_EXPIRED, [from])).rows[0]?.expired ?? 0);
  return { inserted: rows[0]?.inserted ?? 0, expired };
}

/**
 * A unique violation (with generated ids, only an event already in the table causes one), or a row
 * with no partition (23514: older than the partitions kept, or too far ahead).
 */
function needsStaging(error: unknown): boolean {
  const code = codeOf(error);
  return code === SQLSTATE.uniqueViolation || code === SQLSTATE.checkViolation;
}
