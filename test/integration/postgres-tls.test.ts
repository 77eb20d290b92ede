import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { spawnDaemon } from '../support/daemon.js';
import { createPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { createWorld } from '../support/world.js';

const PORT = 25532;
let certificates: TestCertificates;
let server: PostgresServer;

beforeAll(() => {
  certificates = makeCertificates();
  server = createPostgresServer(PORT, {
    files: { 'server.crt': certificates.serverCertificate, 'server.key': certificates.serverKey },
    settings: ['ssl = on', "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"],
    // TLS or nothing, on TCP; the local socket stays open for the server's own tools.
    hba: ['local all all trust', 'hostssl all all 127.0.0.1/32 trust', 'hostnossl all all 127.0.0.1/32 reject', ''].join('\n'),
  });
  server.start();
});

afterAll(() => {
  server?.destroy();
  certificates?.remove();
});

const tlsUrl = (database: string) => `postgres://postgres@127.0.0.1:${PORT}/${database}?sslmode=verify-full`;

describe('PostgreSQL over TLS', () => {
  it('with DATABASE_CA_FILE the consumer verifies the server and stores every event over TLS', async () => {
    const admin = `${tlsUrl('postgres')}&sslrootcert=${certificates.caFile}`;
    const world = await createWorld({ databaseUrl: admin, kafkaBrokers: inject('kafkaBrokers') });
    const database = new URL(world.databaseUrl).pathname.slice(1);
    const env = { ...world.env, DATABASE_URL: tlsUrl(database), DATABASE_CA_FILE: certificates.caFile };

    const producer = spawnDaemon('producer', { ...env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '200' });
    expect((await producer.exited).code).toBe(0);
    const consumer = spawnDaemon('consumer', env);
    await world.waitForRows(200, '200 rows');
    const encrypted = await world.db.query<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'user-actions-consumer'`,
    );
    expect(encrypted.rows.length).toBeGreaterThan(0);
    expect(encrypted.rows.every((row) => row.ssl)).toBe(true);
    expect((await consumer.stop()).code).toBe(0);
  });

  it('without the CA the consumer refuses the server with a clear message instead of retrying', async () => {
    const consumer = spawnDaemon('consumer', {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      KAFKA_TOPIC: 'unused-tls-topic',
      DATABASE_URL: tlsUrl('postgres'),
    });
    expect((await consumer.exited).code).toBe(1);
    const fatal = consumer.logs.filter((line) => line.level >= 50).map((line) => line.msg);
    expect(fatal).toEqual([expect.stringContaining("PostgreSQL's TLS certificate is not trusted; set DATABASE_CA_FILE")]);
  });

  it('the server refuses plaintext, so the test above really ran over TLS', async () => {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${PORT}/postgres?sslmode=disable` });
    await expect(client.connect()).rejects.toThrow(/no encryption/);
  });
});
