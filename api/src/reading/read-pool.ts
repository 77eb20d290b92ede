/**
 * The API's own small pool: reads only, never the consumer's connections. Each session gets
 * `statement_timeout` (a page, a count, each fetch of a stream), so a slow query ends as a 503 instead
 * of holding a connection; the client gives up on a silent server shortly after.
 */
import { FATAL_CODES, FatalError } from '@user-actions/shared/errors';
import type { Logger } from '@user-actions/shared/logger';
import { parseDatabaseHosts, poolForHosts } from '@user-actions/shared/postgres/database-hosts';
import type pg from 'pg';
import { type ApiConfig, READER_SESSIONS } from '../config.js';

/** How the API's sessions are named in pg_stat_activity. */
export const APPLICATION_NAME = 'user-actions-api';

/** How long past the statement timeout a silent connection is given before it is dropped. */
export const SILENCE_GRACE_MS = 5_000;

export function createReadPool(
  config: Pick<ApiConfig, 'databaseUrl' | 'poolSize' | 'queryTimeoutMs' | 'connectTimeoutMs'>,
  logger: Logger,
): pg.Pool {
  const hosts = parseDatabaseHosts(config.databaseUrl, READER_SESSIONS);
  if (typeof hosts === 'string') throw new FatalError(`DATABASE_URL ${hosts}`, { code: FATAL_CODES.misconfigured });
  const pool = poolForHosts(hosts, {
    max: config.poolSize,
    idleTimeoutMillis: 30_000,
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: config.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    query_timeout: config.queryTimeoutMs + SILENCE_GRACE_MS,
    // UTC: counts cut their buckets at UTC minutes, hours and days.
    options: `-c statement_timeout=${config.queryTimeoutMs} -c idle_in_transaction_session_timeout=${config.queryTimeoutMs} -c TimeZone=UTC`,
  });
  // A server that drops an idle connection (a restart) is reported here; the next query opens another.
  pool.on('error', (error) => logger.warn({ err: error }, 'an idle PostgreSQL connection was closed'));
  return pool;
}
