/** The consumer's connections to PostgreSQL: a small pool on one or several hosts, guarded. */

import { FATAL_CODES, FatalError, type Logger } from '@user-actions/shared';
import { parseDatabaseHosts, poolForHosts } from '@user-actions/shared/postgres/database-hosts';
import type pg from 'pg';
import {
  type ConnectionGuard,
  connectionOptions,
  DEFAULT_DATABASE_TIMEOUTS,
  guardConnections,
  type QuietListener,
} from './connection-guard.js';

/** Connections of one consumer: as many batches are written at once (loading/loader.ts). */
export const POOL_SIZE = 4;

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
    max: POOL_SIZE,
    idleTimeoutMillis: 30_000,
    application_name: APPLICATION_NAME,
    ...connectionOptions(timeouts),
  });
  // An idle connection that the server drops (a restart, say) is reported here; without a listener
  // the process would crash. The next query simply opens a new connection.
  pool.on('error', (error) => logger.warn({ err: error }, 'an idle PostgreSQL connection was closed'));
  return Object.assign(pool, { guard: guardConnections(pool, timeouts, onQuiet) });
}
