/**
 * Every SQL statement the consumer runs. Values travel as parameters, never in the text, but for one
 * statement, which opens each batch's transaction and moves its offset in one round trip: a text with
 * two statements takes no parameters, so its values (a consumer group's and a topic's names, numbers)
 * are written into it escaped by node-postgres' `escapeLiteral`. The only names in the text are the
 * table's and its schema's, which `DATABASE_TABLE` and `DATABASE_SCHEMA` may set and which are
 * validated as plain lower-case identifiers first (see config.ts).
 */
import { COLUMN_LIST, columnDefinitions } from '@user-actions/shared/postgres/columns';
import { DEFAULT_TABLE, IDENTIFIER, qualifiedTable, quoted, type TableName } from '@user-actions/shared/postgres/table-name';
import pg from 'pg';
import type { OffsetMove } from './offsets.js';

export { DEFAULT_TABLE, IDENTIFIER, type TableName };

/** The statements for one table. */
export type TableSql = ReturnType<typeof sqlFor>;

// Replicas starting together take turns, so that CREATE TABLE IF NOT EXISTS never races itself.
export const LOCK_MIGRATION = `SELECT pg_advisory_xact_lock(hashtext('user-actions-pipeline:migrate'))`;

/**
 * A batch is first COPied straight into the table: one statement, atomic on its own, PostgreSQL's bulk
 * path. A batch that holds an event already stored (a replay after a crash or a rebalance) fails that
 * COPY as a whole on the unique event id; it is then stored in one transaction through a
 * session-private staging table (no WAL, emptied at commit) and one INSERT … SELECT that skips the
 * stored events. Both are measured against `INSERT … SELECT * FROM unnest($1::uuid[], …)` in
 * docs/benchmarks.md.
 */
const STAGING_TABLE = 'user_actions_staging';

/** What a failed offset move says before the offset it found (offsets.ts reads it back). */
export const OFFSET_ELSEWHERE = 'offset elsewhere: ';

export const CREATE_STAGING = `
CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGING_TABLE} (
${columnDefinitions(false)}
) ON COMMIT DELETE ROWS`;

export const COPY_INTO_STAGING = `COPY ${STAGING_TABLE} (${COLUMN_LIST}) FROM STDIN`;

export const COUNT_EXPIRED = `SELECT count(*)::int AS expired FROM ${STAGING_TABLE} WHERE "timestamp" < $1`;

/**
 * Ends the session of pid $1 if it is still there, waiting up to $2 ms for it to go: only a session of
 * the same user, never this one (a pid reused by someone else's session since is not ended).
 */
export const END_STALE_SESSION = `
SELECT pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity
WHERE pid = $1 AND usename = current_user AND pid <> pg_backend_pid()`;

/** Partitions are made and dropped by one consumer at a time; the others skip the round. */
export const TRY_LOCK_PARTITIONS = `SELECT pg_try_advisory_xact_lock(hashtext('user-actions-pipeline:partitions')) AS locked`;

/** The partition that holds everything before the first regular one (a table's past, when moved in place). */
const HISTORY = 'history';
export const HISTORY_SUFFIX = HISTORY;

export function sqlFor({ schema, name }: TableName) {
  const table = qualifiedTable({ schema, name });
  // Names PostgreSQL derives from the table's (its SERIAL sequence), cut to its 63-byte limit as it does.
  const derived = (suffix: string) => quoted(`${name}${suffix}`.slice(0, 63));
  const qualified = (suffix: string) => (schema === undefined ? derived(suffix) : `${quoted(schema)}.${derived(suffix)}`);
  const qualifiedName = (relation: string) => (schema === undefined ? quoted(relation) : `${quoted(schema)}.${quoted(relation)}`);
  /** The name of a partition of this table, in its schema; `suffix` as partition-layout.ts makes it. */
  const partitionName = (suffix: string) => `${name.slice(0, 63 - suffix.length - 1)}_${suffix}`;
  const offsetsName = `${name}_offsets`.slice(0, 63);
  const offsets = qualified('_offsets');
  const copyIntoTable = `COPY ${table} (${COLUMN_LIST}) FROM STDIN`;
  const moveOffsetOrFail = (groupId: string, { topic, partition, from, to }: OffsetMove) => `
INSERT INTO ${offsets} AS stored (group_id, topic, partition, next_offset)
VALUES (${pg.escapeLiteral(groupId)}, ${pg.escapeLiteral(topic)}, ${Math.trunc(partition)}, ${to})
ON CONFLICT (group_id, topic, partition) DO UPDATE SET
  next_offset = CASE WHEN stored.next_offset = ${from} THEN EXCLUDED.next_offset
                ELSE ('${OFFSET_ELSEWHERE}' || stored.next_offset)::bigint END,
  updated_at = now()`;
  const columnsQuery = (table: string) => ({
    text: `
SELECT column_name FROM information_schema.columns
WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2`,
    values: [schema ?? null, table],
  });
  return {
    /** For messages: the table as the operator named it. */
    display: schema === undefined ? name : `${schema}.${name}`,

    /**
     * The original system's columns and types, plus `event_id`, the identity that makes a redelivered
     * event a no-op, and `metadata`, the event's whole `Metadata` (the original kept only two of its
     * fields). `id` is 64-bit: a busy pipeline outgrows SERIAL's 2^31. Unpartitioned
     * (DATABASE_PARTITION_INTERVAL=none): the layout before partitions.
     */
    createTable: `
CREATE TABLE IF NOT EXISTS ${table} (
  id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
${columnDefinitions(true)},
  UNIQUE (event_id)
)`,

    /**
     * Partitioned by time: PostgreSQL requires every unique key of a partitioned table to hold the
     * partition key, so an event is identified by its id and its timestamp (a redelivered event keeps
     * both). The partitions are made by partition-maintenance.ts.
     */
    createPartitionedTable: `
CREATE TABLE IF NOT EXISTS ${table} (
  id        BIGINT GENERATED BY DEFAULT AS IDENTITY,
${columnDefinitions(true)},
  PRIMARY KEY (id, "timestamp"),
  UNIQUE (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp")`,

    /**
     * Reading by time: the API's keyset pages and the live page walk `("timestamp", id)`. On a
     * partitioned table each partition gets its own, now and when attached later.
     */
    createTimeIndex: `CREATE INDEX IF NOT EXISTS ${derived('_timestamp_id_idx')} ON ${table} ("timestamp", id)`,

    /** `p` for partitioned, `r` for a plain table, none when there is no table. */
    tableKind: { text: 'SELECT relkind FROM pg_class WHERE oid = to_regclass($1)', values: [table] },

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
      const partition = qualifiedName(partitionName(suffix));
      return [
        `CREATE TABLE ${partition} (LIKE ${table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)`,
        `ALTER TABLE ${table} ATTACH PARTITION ${partition}
FOR VALUES FROM (${from === undefined ? 'MINVALUE' : `'${from.toISOString()}'`}) TO ('${to.toISOString()}')`,
      ];
    },

    dropPartition: (partition: string) => `DROP TABLE IF EXISTS ${qualifiedName(partition)}`,

    /**
     * Moves a plain table (ours, or the original system's once adopted) into the partitioned layout in
     * place, in the migration's transaction: the table is renamed and attached as the partition of
     * everything before `to` (its rows are not copied; PostgreSQL checks them once and builds the new
     * keys' indexes), under a new partitioned table that continues its ids.
     */
    partitionInPlace: (to: Date) => {
      const history = partitionName(HISTORY);
      return [
        `ALTER TABLE ${table} RENAME TO ${quoted(history)}`,
        `ALTER TABLE ${qualifiedName(history)} DROP CONSTRAINT IF EXISTS ${derived('_pkey')}`,
        `ALTER TABLE ${qualifiedName(history)} ALTER COLUMN id DROP IDENTITY IF EXISTS`,
        `ALTER TABLE ${qualifiedName(history)} ALTER COLUMN id DROP DEFAULT`,
        `ALTER INDEX IF EXISTS ${qualified('_event_id_key')} RENAME TO ${quoted(`${history}_event_id_key`.slice(0, 63))}`,
        // The partitioned table's own index takes this name; the old one becomes its history's part.
        `ALTER INDEX IF EXISTS ${qualified('_timestamp_id_idx')} RENAME TO ${quoted(`${history}_timestamp_id_idx`.slice(0, 63))}`,
        `CREATE TABLE ${table} (
  id        BIGINT GENERATED BY DEFAULT AS IDENTITY,
${columnDefinitions(true)},
  PRIMARY KEY (id, "timestamp"),
  UNIQUE (event_id, "timestamp")
) PARTITION BY RANGE ("timestamp")`,
        `ALTER TABLE ${table} ATTACH PARTITION ${qualifiedName(history)} FOR VALUES FROM (MINVALUE) TO ('${to.toISOString()}')`,
        `SELECT setval(pg_get_serial_sequence('${table}', 'id'), greatest((SELECT max(id) FROM ${table}), 1))`,
      ];
    },

    countRows: `SELECT count(*)::int AS rows FROM ${table}`,

    /** The newest timestamp stored, which the partition of a table moved in place must cover. */
    newestTimestamp: `SELECT max("timestamp") AS newest FROM ${table}`,

    /** For tables made before `metadata` existed, and the original system's. */
    addMetadata: `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS metadata JSONB`,

    copyIntoTable,

    /**
     * Skips the events already stored (whichever unique key the table has) and those before $1, the
     * retention window's start (counted by `countExpired`).
     */
    insertFromStaging: `
INSERT INTO ${table} (${COLUMN_LIST})
SELECT ${COLUMN_LIST} FROM ${STAGING_TABLE} WHERE "timestamp" >= $1
ON CONFLICT DO NOTHING`,

    /**
     * Where each partition's next event is, per consumer group: moved in the transaction that stores the
     * events before it, so the table and its position in the topic can never disagree (docs/architecture.md).
     */
    offsetsDisplay: schema === undefined ? offsetsName : `${schema}.${offsetsName}`,

    createOffsetsTable: `
CREATE TABLE IF NOT EXISTS ${offsets} (
  group_id    TEXT        NOT NULL,
  topic       TEXT        NOT NULL,
  partition   INTEGER     NOT NULL,
  next_offset BIGINT      NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
)`,

    /**
     * Moves a partition's offset from $4 to $5, or records it when the partition has none yet; a
     * partition found anywhere but at $4 is left as it is (no row affected): the batch did not start
     * where the table ends. Named, so that each connection plans it once.
     */
    moveOffset: {
      name: `move-offset ${offsets}`,
      text: `
INSERT INTO ${offsets} AS stored (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $5)
ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
WHERE stored.next_offset = $4`,
    },

    /**
     * A batch's transaction in one query: BEGIN, the offset's move, and the COPY of its rows. A partition
     * found anywhere but at `from` fails the move (and so the rest) with PostgreSQL's error 22P02 on
     * the text `offset elsewhere: <stored offset>` (see offsets.ts): a statement whose row count cannot
     * be read, as here, can still stop the transaction. Then only the COMMIT is left: one round trip
     * more than a COPY alone, where BEGIN, the move and the COMMIT each on their own cost three
     * (docs/benchmarks.md).
     */
    beginMovingOffsetAndCopy: (groupId: string, move: OffsetMove) =>
      `BEGIN; ${moveOffsetOrFail(groupId, move)}; ${copyIntoTable}`,

    /** The same without the COPY, for a batch stored through the staging table. */
    beginMovingOffset: (groupId: string, move: OffsetMove) => `BEGIN; ${moveOffsetOrFail(groupId, move)}`,

    readOffsets: `SELECT partition, next_offset FROM ${offsets} WHERE group_id = $1 AND topic = $2`,

    readOffset: `SELECT next_offset FROM ${offsets} WHERE group_id = $1 AND topic = $2 AND partition = $3`,

    columns: columnsQuery(name),
    offsetsColumns: columnsQuery(offsetsName),

    /**
     * Adopts the table of the original .NET consumer (SERIAL id, no event_id) in place, in the
     * migration's transaction: every existing row is kept and gets an id of its own.
     */
    adoptOriginalTable: [
      `ALTER TABLE ${table} ALTER COLUMN id TYPE BIGINT`,
      `ALTER SEQUENCE IF EXISTS ${qualified('_id_seq')} AS BIGINT`,
      `ALTER TABLE ${table} ADD COLUMN event_id UUID`,
      `UPDATE ${table} SET event_id = gen_random_uuid()`,
      `ALTER TABLE ${table} ALTER COLUMN event_id SET NOT NULL`,
      `ALTER TABLE ${table} ADD CONSTRAINT ${derived('_event_id_key')} UNIQUE (event_id)`,
    ],
  } as const;
}
