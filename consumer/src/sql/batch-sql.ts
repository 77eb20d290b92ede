/**
 * A batch's write. A batch is first COPied straight into the table: one statement, atomic on its own,
 * PostgreSQL's bulk path. A batch that holds an event already stored (a replay after a crash or a
 * rebalance) fails that COPY as a whole on the unique event id; it is then stored in one transaction
 * through a session-private staging table (no WAL, emptied at commit) and one INSERT … SELECT that skips
 * the stored events. Both are measured against `INSERT … SELECT * FROM unnest($1::uuid[], …)` in
 * docs/benchmarks.md.
 */
import { COLUMN_LIST, columnDefinitions } from '@user-actions/shared/event/columns';
import type { OffsetMove } from '../loading/postgres-port.js';
import type { offsetsSqlFor } from './offsets-sql.js';
import type { SqlNames } from './sql-names.js';
import type { tallySqlFor } from './tally-sql.js';

const STAGING_TABLE = 'user_actions_staging';

export const CREATE_STAGING = `
CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGING_TABLE} (
${columnDefinitions(false)}
) ON COMMIT DELETE ROWS`;

export const COPY_INTO_STAGING = `COPY ${STAGING_TABLE} (${COLUMN_LIST}) FROM STDIN`;

export const COUNT_EXPIRED = `SELECT count(*)::int AS expired FROM ${STAGING_TABLE} WHERE "timestamp" < $1`;

export function batchSqlFor(
  { table }: SqlNames,
  { moveOffsetOrFail }: Pick<ReturnType<typeof offsetsSqlFor>, 'moveOffsetOrFail'>,
  tallies: Pick<ReturnType<typeof tallySqlFor>, 'addInserted'>,
) {
  const copyIntoTable = `COPY ${table} (${COLUMN_LIST}) FROM STDIN`;
  return {
    copyIntoTable,

    /** A batch's transaction for a consumer that keeps no offsets: BEGIN and the COPY, in one query. */
    beginAndCopy: `BEGIN; ${copyIntoTable}`,

    /**
     * Skips the events already stored (whichever unique key the table has) and those before $1, the
     * retention window's start (counted by `COUNT_EXPIRED`), and adds what it inserted to the tallies.
     */
    insertFromStaging: `
WITH inserted AS (
  INSERT INTO ${table} (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM ${STAGING_TABLE} WHERE "timestamp" >= $1
  ON CONFLICT DO NOTHING
  RETURNING "timestamp", action
), added AS (${tallies.addInserted})
SELECT (SELECT count(*)::int FROM inserted) AS inserted FROM added`,

    /**
     * A batch's transaction in one query: BEGIN, the offset's move, and the COPY of its rows; a move that
     * fails stops the rest. Then only the COMMIT is left: one round trip more than a COPY alone, where
     * BEGIN, the move and the COMMIT each on their own cost three (docs/benchmarks.md).
     */
    beginMovingOffsetAndCopy: (groupId: string, move: OffsetMove) =>
      `BEGIN; ${moveOffsetOrFail(groupId, move)}; ${copyIntoTable}`,

    /** The same without the COPY, for a batch stored through the staging table. */
    beginMovingOffset: (groupId: string, move: OffsetMove) => `BEGIN; ${moveOffsetOrFail(groupId, move)}`,
  } as const;
}
