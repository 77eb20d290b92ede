/**
 * Every SQL statement the consumer runs on its table, one builder per concern: the table's schema
 * (table-sql.ts), its partitions (partition-sql.ts), the offsets beside it (offsets-sql.ts), a batch's
 * write (batch-sql.ts) and the tallies (tally-sql.ts). Values travel as parameters, never in the text,
 * but for the offset's move in a batch's one-round-trip transaction (offsets-sql.ts). The only names in
 * the text are the table's and those derived from it (sql-names.ts).
 */
import { DEFAULT_TABLE, IDENTIFIER, type TableName } from '@user-actions/shared/postgres/table-name';
import { batchSqlFor } from './batch-sql.js';
import { offsetsSqlFor } from './offsets-sql.js';
import { partitionSqlFor } from './partition-sql.js';
import { sqlNames } from './sql-names.js';
import { tableSqlFor } from './table-sql.js';
import { tallySqlFor } from './tally-sql.js';

export { COPY_INTO_STAGING, COUNT_EXPIRED, CREATE_STAGING } from './batch-sql.js';
export { OFFSET_ELSEWHERE } from './offsets-sql.js';
export { HISTORY_SUFFIX, TRY_LOCK_PARTITIONS } from './partition-sql.js';
export { LOCK_MIGRATION } from './table-sql.js';
export { DEFAULT_TABLE, IDENTIFIER, type TableName };

/** The statements for one table. */
export type TableSql = ReturnType<typeof sqlFor>;

export function sqlFor(tableName: TableName) {
  const names = sqlNames(tableName);
  const tallies = tallySqlFor(names.tableName);
  const offsets = offsetsSqlFor(names);
  return {
    ...tableSqlFor(names),
    ...partitionSqlFor(names),
    ...offsets,
    ...batchSqlFor(names, offsets, tallies),
    /** The per-minute and per-second tallies beside the table (tally-sql.ts). */
    tallies,
  } as const;
}
