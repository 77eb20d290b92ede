/** Statements on one of the suite's own PostgreSQL servers, outside any scenario's pool. */
import pg from 'pg';
import type { PostgresServer } from '../support/postgres-server.js';
import type { World } from '../support/world.js';

export function databaseOf(world: World): string {
  return /\/([^/?#]+)(?:[?#].*)?$/.exec(world.databaseUrl)?.[1] ?? '';
}

/** A statement on one server's `postgres` database. */
export async function onServer(server: PostgresServer, sql: string, database = 'postgres'): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: server.url.replace(/\/postgres$/, `/${database}`) });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The rows of the scenario's table on one server (a replica answers reads). */
export async function rowsOn(server: PostgresServer, world: World): Promise<number> {
  return Number((await onServer(server, 'SELECT count(*) FROM useractions', databaseOf(world))).rows[0].count);
}
