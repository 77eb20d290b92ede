/** The PostgreSQL edge: a small connection pool, table creation, and the batch insert. */

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FATAL_CODES, FatalError, LOG_EVENT, type Logger, logRetries, withRetry } from '@user-actions/shared';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  type ConnectionGuard,
  connectionOptions,
  DEFAULT_DATABASE_TIMEOUTS,
  guardConnections,
  type QuietListener,
  SCHEMA_TIMEOUT_FACTOR,
} from './connection-guard.js';
import type { CopyRows } from './copy-text.js';
import { parseDatabaseHosts, poolForHosts } from './database-hosts.js';
import { type MoveResult, moveOffset, type OffsetMove, offsetElsewhere } from './offsets.js';
import { givingUp, isTransientPgError } from './pg-errors.js';
import { postgresListenerProblem } from './postgres-listener.js';
import { COPY_INTO_STAGING, CREATE_STAGING, LOCK_MIGRATION, type TableSql } from './sql.js';

/** How the consumer's sessions are named in pg_stat_activity. */
export const APPLICATION_NAME = 'user-actions-consumer';

/** The consumer's connections: node-postgres' pool, and the guard every unit of work goes through. */
export type Pool = pg.Pool & { readonly guard: ConnectionGuard };

/** Hosts, ports and database of a connection URL, without the credentials: safe to log. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const hosts = parseDatabaseHosts(databaseUrl);
  if (typeof hosts === 'string') return 'an invalid DATABASE_URL';
  return `${hosts.names.join(',')}${new URL(hosts.urls[0] as string).pathname}`;
}

export function createPool(
  databaseUrl: string,
  logger: Logger,
  timeouts = DEFAULT_DATABASE_TIMEOUTS,
  onQuiet?: QuietListener,
): Pool {
  const hosts = parseDatabaseHosts(databaseUrl);
  if (typeof hosts === 'string') throw new FatalError(`DATABASE_URL ${hosts}`, { code: FATAL_CODES.misconfigured });
  const pool = poolForHosts(hosts, {
    max: 4,
    idleTimeoutMillis: 30_000,
    application_name: APPLICATION_NAME,
    ...connectionOptions(timeouts),
  });
  // An idle connection that the server drops (a restart, say) is reported here; without a listener
  // the process would crash. The next query simply opens a new connection.
  pool.on('error', (error) => logger.warn({ reason: error.message }, 'an idle PostgreSQL connection was closed'));
  return Object.assign(pool, { guard: guardConnections(pool, timeouts, onQuiet) });
}

async function columnsOf(queryable: Pick<Pool, 'query'>, query: TableSql['columns' | 'offsetsColumns']): Promise<Set<string>> {
  const { rows } = await queryable.query<{ column_name: string }>(query.text, [...query.values]);
  return new Set(rows.map((row) => row.column_name));
}

export type MigrationOutcome = 'created' | 'adopted' | 'extended' | 'up to date' | 'checked';

/**
 * Creates the table if it is missing, or adopts the original system's table; safe when several
 * consumers start at the same moment.
 */
export function migrate(pool: Pool, sql: TableSql): Promise<MigrationOutcome> {
  return pool.guard.run('schema', async (client) => {
    await client.query('BEGIN');
    await client.query(`SET LOCAL statement_timeout = ${pool.guard.timeouts.statementMs * SCHEMA_TIMEOUT_FACTOR}`);
    await client.query(LOCK_MIGRATION);
    const columns = await columnsOf(client, sql.columns);
    let outcome: MigrationOutcome = 'up to date';
    if (columns.size === 0) {
      await client.query(sql.createTable);
      outcome = 'created';
    } else if (!columns.has('event_id')) {
      for (const statement of sql.adoptOriginalTable) await client.query(statement);
      await client.query(sql.addMetadata);
      outcome = 'adopted';
    } else if (!columns.has('metadata')) {
      await client.query(sql.addMetadata);
      outcome = 'extended';
    }
    await client.query(sql.createOffsetsTable);
    await client.query('COMMIT');
    return outcome;
  });
}

/**
 * For a consumer without DDL rights (AUTO_MIGRATE=false): only checks that the table is there, with the
 * column that makes replays harmless.
 */
export function checkTable(pool: Pool, sql: TableSql): Promise<MigrationOutcome> {
  return pool.guard.run('batch', (client) => checkTables(client, sql));
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
  return 'checked';
}

function notCreatedYet(problem: string): FatalError {
  return new FatalError(
    `AUTO_MIGRATE=false, but ${problem}; run the consumer once with AUTO_MIGRATE=true as the table owner, ` +
      'or create the tables as the README shows',
    { code: FATAL_CODES.postgresTable },
  );
}

export interface InsertResult {
  /** How many rows were new (events already stored are skipped). */
  inserted: number;
  /** With an offset move: whether it was made, in the rows' transaction; when not, nothing was stored. */
  move?: MoveResult;
}

/**
 * Stores the rows atomically, and with `move` the partition's offset in the same transaction. The fast
 * path is one COPY into the table; a batch holding an already-stored event fails it as a whole, and is
 * then stored through the staging table, which skips those events.
 */
export async function insertRows(
  pool: Pool,
  sql: TableSql,
  rows: CopyRows,
  move?: { groupId: string } & OffsetMove,
): Promise<InsertResult> {
  if (rows.length === 0 && move === undefined) return { inserted: 0 };
  // A connection whose transaction failed is closed (which rolls it back) rather than reused half-way.
  return pool.guard.run('batch', (client) =>
    move === undefined ? insertAlone(client, sql, rows) : insertMoving(client, sql, rows, move),
  );
}

async function insertAlone(client: pg.PoolClient, sql: TableSql, rows: CopyRows): Promise<InsertResult> {
  try {
    await copyIntoTable(client, sql, rows.text);
    return { inserted: rows.length };
  } catch (error) {
    if (!isAlreadyStored(error)) throw error;
  }
  await client.query('BEGIN');
  const inserted = await insertSkippingStored(client, sql, rows.text);
  await client.query('COMMIT');
  return { inserted };
}

async function insertMoving(
  client: pg.PoolClient,
  sql: TableSql,
  rows: CopyRows,
  { groupId, ...move }: { groupId: string } & OffsetMove,
): Promise<InsertResult> {
  if (rows.length === 0) return { inserted: 0, move: await moveOffset(client, sql, groupId, move) };
  let inserted = rows.length;
  try {
    // The offset first: a batch that does not continue the table costs no COPY.
    await copyRows(client, sql.beginMovingOffsetAndCopy(groupId, move), rows.text);
  } catch (error) {
    await client.query('ROLLBACK');
    const stored = offsetElsewhere(error);
    if (stored !== undefined) return { inserted: 0, move: { moved: false, stored } };
    if (!isAlreadyStored(error)) throw error;
    try {
      await client.query(sql.beginMovingOffset(groupId, move));
    } catch (moveError) {
      await client.query('ROLLBACK');
      const storedNow = offsetElsewhere(moveError);
      if (storedNow !== undefined) return { inserted: 0, move: { moved: false, stored: storedNow } };
      throw moveError;
    }
    inserted = await insertSkippingStored(client, sql, rows.text);
  }
  await client.query('COMMIT');
  return { inserted, move: { moved: true } };
}

async function copyRows(client: pg.PoolClient, copyStatement: string, text: Buffer): Promise<void> {
  await pipeline(Readable.from([text]), client.query(copyFrom(copyStatement)));
}

function copyIntoTable(client: pg.PoolClient, sql: TableSql, text: Buffer): Promise<void> {
  return copyRows(client, sql.copyIntoTable, text);
}

/** In the caller's transaction: the staging table is emptied at its commit. */
async function insertSkippingStored(client: pg.PoolClient, sql: TableSql, text: Buffer): Promise<number> {
  await client.query(CREATE_STAGING);
  await copyRows(client, COPY_INTO_STAGING, text);
  const result = await client.query(sql.insertFromStaging);
  return result.rowCount ?? 0;
}

/** A unique violation: with generated ids, only an event id already in the table causes one. */
function isAlreadyStored(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
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
  }: { databaseUrl: string; maxOutageMs: number; autoMigrate: boolean; sql: TableSql },
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
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
  let outcome: MigrationOutcome;
  try {
    await checkServer();
    outcome = await withRetry(() => (autoMigrate ? migrate(pool, sql) : checkTable(pool, sql)), {
      isRetryable: isTransientPgError,
      signal,
      ...(maxOutageMs > 0
        ? { maxElapsedMs: maxOutageMs, outage: { what: `PostgreSQL at ${database}`, setting: 'MAX_OUTAGE_MS' } }
        : {}),
      onRetry: async (error, attempt, delayMs) => {
        await checkServer();
        logRetry(error, attempt, delayMs);
      },
    });
  } catch (error) {
    throw givingUp(error);
  }
  if (outcome === 'adopted')
    logger.warn({ database, table: sql.display }, "adopted the original system's table: added event_id, widened id");
  logger.info({ event: LOG_EVENT.tableReady, database, table: sql.display, outcome }, 'table ready');
}
