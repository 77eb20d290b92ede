/**
 * The tables at start: created, adopted from the original system, extended, moved into time partitions
 * in place (or, for a consumer without DDL rights, only checked), waiting while PostgreSQL is away.
 */
import { FATAL_CODES, FatalError, LOG_EVENT, type Logger, logRetries, withRetry } from '@user-actions/shared';
import { parseDatabaseHosts } from '@user-actions/shared/postgres/database-hosts';
import { postgresVerdict } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';
import { SCHEMA_TIMEOUT_FACTOR } from '../connecting/connection-guard.js';
import { describeDatabaseUrl, type Pool } from '../connecting/pool.js';
import { postgresListenerProblem } from '../connecting/postgres-listener.js';
import { LOCK_MIGRATION, type TableSql } from '../sql/sql.js';
import { addTime, intervalStart } from './partition-layout.js';
import { type MaintenanceResult, maintainIn, type PartitionPolicy } from './partition-maintenance.js';

async function columnsOf(queryable: Pick<Pool, 'query'>, query: TableSql['columns' | 'offsetsColumns']): Promise<Set<string>> {
  const { rows } = await queryable.query<{ column_name: string }>(query.text, [...query.values]);
  return new Set(rows.map((row) => row.column_name));
}

export type MigrationOutcome = 'created' | 'adopted' | 'extended' | 'up to date' | 'checked';

export interface Migration {
  outcome: MigrationOutcome;
  /** The plain table was moved into partitions in place: how many rows it held, and how long it took. */
  partitioned?: { rows: number; ms: number };
  /** The first round of partition maintenance, in the migration's transaction. */
  partitions?: MaintenanceResult;
}

/**
 * Creates the table if it is missing (partitioned by `policy`, or plain without one), adopts the
 * original system's table, moves a plain table into partitions in place, and makes the partitions
 * ahead; safe when several consumers start at the same moment.
 */
export function migrate(
  pool: Pool,
  sql: TableSql,
  policy: PartitionPolicy | undefined,
  now: Date = new Date(),
): Promise<Migration> {
  return pool.guard.run('schema', async (client) => {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${pool.guard.timeouts.statementMs * SCHEMA_TIMEOUT_FACTOR}`);
    await client.query(LOCK_MIGRATION);
    const columns = await columnsOf(client, sql.columns);
    let outcome: MigrationOutcome = 'up to date';
    if (columns.size === 0) {
      await client.query(policy ? sql.createPartitionedTable : sql.createTable);
      outcome = 'created';
    } else if (!columns.has('event_id')) {
      for (const statement of sql.adoptOriginalTable) await client.query(statement);
      await client.query(sql.addMetadata);
      outcome = 'adopted';
    } else if (!columns.has('metadata')) {
      await client.query(sql.addMetadata);
      outcome = 'extended';
    }
    const kind = (await client.query<{ relkind: string }>(sql.tableKind)).rows[0]?.relkind;
    if (policy === undefined && kind === 'p') {
      throw new FatalError(
        `the table ${sql.display} is partitioned: set DATABASE_PARTITION_INTERVAL to its interval (none is for a plain table)`,
        { code: FATAL_CODES.misconfigured },
      );
    }
    const partitioned = policy && kind === 'r' ? await partitionInPlace(client, sql, policy, now) : undefined;
    if (!(await client.query<{ indexed: boolean }>(sql.hasTimeIndex)).rows[0]?.indexed) await client.query(sql.createTimeIndex);
    await keepTallies(client, sql.tallies);
    await client.query(sql.createOffsetsTable);
    const partitions = policy && (await maintainIn(client, sql, policy, now));
    await client.query('COMMIT');
    return { outcome, ...(partitioned && { partitioned }), ...(partitions && { partitions }) };
  });
}

/** Attaches the plain table as the partition of everything up to the end of the interval that holds both the clock and its newest row. */
async function partitionInPlace(
  client: pg.ClientBase,
  sql: TableSql,
  { unit }: PartitionPolicy,
  now: Date,
): Promise<{ rows: number; ms: number }> {
  const started = Date.now();
  const newest = (await client.query<{ newest: Date | null }>(sql.newestTimestamp)).rows[0]?.newest;
  const latest = newest && newest > now ? newest : now;
  for (const statement of sql.tallies.dropTriggers) await client.query(statement);
  for (const statement of sql.partitionInPlace(addTime(unit, intervalStart(unit, latest), 1))) await client.query(statement);
  const { rows } = await client.query<{ rows: number }>(sql.countRows);
  return { rows: rows[0]?.rows ?? 0, ms: Date.now() - started };
}

/**
 * The tallies beside the table, their functions and triggers: made and filled with what the table holds
 * the first time, and the triggers put back on a table just moved into partitions.
 */
async function keepTallies(client: pg.ClientBase, tallies: TableSql['tallies']): Promise<void> {
  const present = (await client.query<{ present: boolean }>(tallies.exists)).rows[0]?.present;
  if (!present) {
    for (const statement of tallies.create) await client.query(statement);
    for (const statement of tallies.countStored) await client.query(statement);
  }
  for (const statement of tallies.createFunctions) await client.query(statement);
  const triggers = new Set((await client.query<{ name: string }>(tallies.presentTriggers)).rows.map(({ name }) => name));
  for (const [name, statement] of Object.entries(tallies.triggers)) if (!triggers.has(name)) await client.query(statement);
}

/**
 * For a consumer without DDL rights (AUTO_MIGRATE=false): only checks that the table is there, with the
 * column that makes replays harmless.
 */
export function checkTable(pool: Pool, sql: TableSql): Promise<Migration> {
  return pool.guard.run('batch', async (client) => ({ outcome: await checkTables(client, sql) }));
}

async function checkTables(client: pg.PoolClient, sql: TableSql): Promise<MigrationOutcome> {
  const columns = await columnsOf(client, sql.columns);
  const missing =
    columns.size === 0 ? 'is not visible to this user' : ['event_id', 'metadata'].find((column) => !columns.has(column));
  if (missing !== undefined) {
    throw notCreatedYet(`the table ${sql.display} ${columns.size === 0 ? missing : `has no ${missing} column`}`);
  }
  if ((await columnsOf(client, sql.offsetsColumns)).size === 0) {
    throw notCreatedYet(`the offsets table ${sql.offsetsDisplay} is not visible to this user`);
  }
  if (!(await client.query<{ present: boolean }>(sql.tallies.canAdd)).rows[0]?.present) {
    throw notCreatedYet(`the tallies of ${sql.display} are not made yet`);
  }
  return 'checked';
}

function notCreatedYet(problem: string): FatalError {
  return new FatalError(
    `AUTO_MIGRATE=false, but ${problem}; run the consumer once with AUTO_MIGRATE=true as the table owner, ` +
      'or create the tables as the README shows',
    { code: FATAL_CODES.postgresTable },
  );
}

/**
 * Creates the table (or with `autoMigrate` false only checks it), waiting with backoff while PostgreSQL
 * is unreachable, up to `maxOutageMs` (0 = forever).
 */
export async function prepareDatabase(
  pool: Pool,
  {
    databaseUrl,
    maxOutageMs,
    autoMigrate,
    sql,
    policy,
  }: { databaseUrl: string; maxOutageMs: number; autoMigrate: boolean; sql: TableSql; policy: PartitionPolicy | undefined },
  logger: Logger,
  signal: AbortSignal,
): Promise<Migration> {
  const database = describeDatabaseUrl(databaseUrl);
  // Something other than PostgreSQL at that address (a Kafka port, say) would otherwise be waited for.
  const checkServer = async () => {
    const hosts = parseDatabaseHosts(databaseUrl);
    for (const url of typeof hosts === 'string' ? [] : hosts.urls) {
      const problem = await postgresListenerProblem(url);
      if (problem) throw new FatalError(problem, { code: FATAL_CODES.misconfigured });
    }
  };
  const logRetry = logRetries(logger, 'waiting for PostgreSQL', { event: LOG_EVENT.waitingForPostgres, database });
  await checkServer();
  const migration = await withRetry(() => (autoMigrate ? migrate(pool, sql, policy) : checkTable(pool, sql)), {
    verdictOf: postgresVerdict,
    signal,
    ...(maxOutageMs > 0
      ? { maxElapsedMs: maxOutageMs, outage: { what: `PostgreSQL at ${database}`, setting: 'MAX_OUTAGE_MS' } }
      : {}),
    onRetry: async (error, attempt, delayMs) => {
      await checkServer();
      logRetry(error, attempt, delayMs);
    },
  });
  const { outcome, partitioned } = migration;
  if (outcome === 'adopted')
    logger.warn({ database, table: sql.display }, "adopted the original system's table: added event_id, widened id");
  if (partitioned) {
    logger.warn(
      { database, table: sql.display, ...partitioned },
      'moved the table into time partitions in place: its rows are now the history partition',
    );
  }
  logger.info({ event: LOG_EVENT.tableReady, database, table: sql.display, outcome }, 'table ready');
  return migration;
}
