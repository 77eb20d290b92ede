import { createServer } from 'node:net';
import pg from 'pg';
import { afterEach, expect, it, vi } from 'vitest';
import { freePort } from '../support/ports.js';
import { createPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { processIsRunning } from '../support/processes.js';

const servers: PostgresServer[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.destroy();
  vi.restoreAllMocks();
});

it('a PostgreSQL server an interrupted run left on a test port is stopped, with a line saying so', async () => {
  const port = await freePort();
  const forgotten = createPostgresServer(port);
  forgotten.start(); // and never destroyed, as when a run is killed
  const said = vi.spyOn(console, 'error').mockImplementation(() => undefined);

  const next = createPostgresServer(port);
  servers.push(next);
  next.start();

  expect(said).toHaveBeenCalledWith(
    expect.stringMatching(`port ${port}: stopping the PostgreSQL server an interrupted test run left there`),
  );
  const client = new pg.Client(next.url);
  await client.connect();
  expect((await client.query<{ ok: number }>('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  await client.end();
});

it('anything else on a test port stops the test with a line naming it', async () => {
  const port = await freePort();
  const other = createServer();
  await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
  try {
    const server = createPostgresServer(port);
    servers.push(server);
    expect(() => server.start()).toThrow(new RegExp(`port ${port} is taken by pid ${process.pid} .*: stop that process`));
    expect(processIsRunning(process.pid)).toBe(true);
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
});
