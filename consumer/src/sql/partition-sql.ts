/** The table's time partitions: listed, made, dropped, and a plain table moved into them in place. */
import { quoted } from '@user-actions/shared/postgres/table-name';
import type { SqlNames } from './sql-names.js';
import { partitionedTable } from './table-sql.js';

/** Partitions are made and dropped by one consumer at a time; the others skip the round. */
export const TRY_LOCK_PARTITIONS = `SELECT pg_try_advisory_xact_lock(hashtext('user-actions-pipeline:partitions')) AS locked`;

/** The partition that holds everything before the first regular one (a table's past, when moved in place). */
export const HISTORY_SUFFIX = 'history';

export function partitionSqlFor(names: SqlNames) {
  const { table, tableName, inSchema, derived, qualified } = names;
  /** The name of a partition of this table, in its schema; `suffix` as partition-layout.ts makes it. */
  const partitionName = (suffix: string) => `${tableName.name.slice(0, 63 - suffix.length - 1)}_${suffix}`;
  return {
    /** Every partition with its bounds, in UTC (the session's TimeZone is set to UTC first). */
    partitions: {
      text: `
SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = to_regclass($1)`,
      values: [table],
    },

    partitionName,

    /**
     * A partition for [from, to) (`from` undefined: everything before `to`), made apart and then
     * attached: attaching needs only a lock that loading does not conflict with, where CREATE TABLE …
     * PARTITION OF would wait for the table to itself.
     */
    createPartition: (suffix: string, from: Date | undefined, to: Date) => {
      const partition = inSchema(partitionName(suffix));
      return [
        `CREATE TABLE ${partition} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)`,
        `ALTER TABLE ${table} ATTACH PARTITION ${partition}
FOR VALUES FROM (${from === undefined ? 'MINVALUE' : `'${from.toISOString()}'`}) TO ('${to.toISOString()}')`,
      ];
    },

    dropPartition: (partition: string) => `DROP TABLE IF EXISTS ${inSchema(partition)}`,

    /**
     * Moves a plain table (ours, or the original system's once adopted) into the partitioned layout in
     * place, in the migration's transaction: the table is renamed and attached as the partition of
     * everything before `to` (its rows are not copied; PostgreSQL checks them once and builds the new
     * keys' indexes), under a new partitioned table that continues its ids.
     */
    partitionInPlace: (to: Date) => {
      const history = partitionName(HISTORY_SUFFIX);
      return [
        `ALTER TABLE ${table} RENAME TO ${quoted(history)}`,
        `ALTER TABLE ${inSchema(history)} DROP CONSTRAINT IF EXISTS ${derived('_pkey')}`,
        `ALTER TABLE ${inSchema(history)} ALTER COLUMN id DROP IDENTITY IF EXISTS`,
        `ALTER TABLE ${inSchema(history)} ALTER COLUMN id DROP DEFAULT`,
        `ALTER INDEX IF EXISTS ${qualified('_event_id_key')} RENAME TO ${quoted(`${history}_event_id_key`.slice(0, 63))}`,
        // The partitioned table's primary key serves reading by time: the plain table's index would double it.
        `DROP INDEX IF EXISTS ${qualified('_timestamp_id_idx')}`,
        `CREATE TABLE ${partitionedTable(names)}`,
        `ALTER TABLE ${table} ATTACH PARTITION ${inSchema(history)} FOR VALUES FROM (MINVALUE) TO ('${to.toISOString()}')`,
        `SELECT setval(pg_get_serial_sequence('${table}', 'id'), greatest((SELECT max(id) FROM ${table}), 1))`,
      ];
    },
  } as const;
}
