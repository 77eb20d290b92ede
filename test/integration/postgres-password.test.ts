/**
 * The compose way of giving the consumer its PostgreSQL password: DATABASE_URL without one, the password
 * in PGPASSWORD, where characters that would break a URL (/ ? # % @ :) are safe. A server of the test's
 * own that checks passwords (scram-sha-256), unlike the trusting local one.
 */

import { LOG_EVENT } from '@user-actions/shared';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createPostgresServer, type PostgresServer } from '../support/postgres-server.js';

const PORT = 25632;
const PASSWORD = 'p/a?s#s%w@rd:1';
let server: PostgresServer;

beforeAll(async () => {
  server = createPostgresServer(PORT, {
    settings: ["password_encryption = 'scram-sha-256'"],
    hba: ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all all 127.0.0.1/32 scram-sha-256', ''].join(
      '\n',
    ),
  });
  server.start();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE ROLE loader LOGIN PASSWORD '${PASSWORD.replaceAll("'", "''")}'`);
  await admin.query('CREATE DATABASE loader_db OWNER loader');
  await admin.end();
});

afterAll(() => server?.destroy());

const env = (password: string) => ({
  KAFKA_BROKERS: inject('kafkaBrokers'),
  KAFKA_TOPIC: `pgpassword-${Date.now()}`,
  DATABASE_URL: `postgres://loader@127.0.0.1:${PORT}/loader_db`,
  PGPASSWORD: password,
});

it('DATABASE_URL without a password and PGPASSWORD holding / ? # % @ : : the consumer signs in', async () => {
  const consumer = spawnDaemon('consumer', env(PASSWORD));
  await consumer.waitForLog((line) => line.event === LOG_EVENT.tableReady);
  expect((await consumer.stop()).code).toBe(0);
});

it('a wrong PGPASSWORD stops the consumer with the password message, not a retry loop', async () => {
  const consumer = spawnDaemon('consumer', env('wrong'));
  expect((await consumer.exited).code).toBe(1);
  expect(consumer.logs.filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([
    expect.stringMatching(/^PostgreSQL rejected the password \(in DATABASE_URL, or PGPASSWORD/),
  ]);
});
