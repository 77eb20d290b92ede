/**
 * Whether the API can read the table, checked at start and then every few seconds: `/readyz` says so
 * (and why not: PostgreSQL away, the table not created yet), a setting that can never work (a wrong
 * password, a database that does not exist, no permission to read) stops the daemon with one line.
 */
import { ClassifiedError, classify, codeOf } from '@user-actions/shared/errors';
import type { Readiness } from '@user-actions/shared/ops-server';
import { postgresVerdict, SQLSTATE } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';
import type { ReadSql } from './read-sql.js';

export const POSTGRES = 'postgres';
const CHECK_EVERY_MS = 5_000;

export interface PostgresWatch {
  /** Rejects with a FatalError when PostgreSQL refuses what no wait will fix. */
  readonly failed: Promise<never>;
  stop(): void;
}

export function watchPostgres(pool: pg.Pool, sql: ReadSql, readiness: Readiness, table: string): PostgresWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  const check = async () => {
    try {
      await pool.query(sql.probe);
      readiness.met(POSTGRES);
    } catch (caught) {
      const error = classify(caught, postgresVerdict);
      if (codeOf(error) === SQLSTATE.undefinedTable)
        readiness.unmetBecause(
          POSTGRES,
          `the table ${table} or its tallies are not created yet: a consumer of this version makes them`,
        );
      else if (error instanceof ClassifiedError && error.retryable) readiness.unmetBecause(POSTGRES, error.message);
      else return fail(error);
    }
    if (!stopped) timer = setTimeout(check, CHECK_EVERY_MS);
  };
  void check();
  return {
    failed,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
