import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { expectStopsOnMisconfiguration, spawnDaemon } from '../support/daemon.js';
import { kafkaScript } from '../support/local-kafka.js';
import { produceAndStore } from '../support/pipeline.js';
import { createWorld } from '../support/world.js';

// A broker of its own with a TLS listener, whose certificate comes from a CA made for the test.
const PLAINTEXT_PORT = 22192;
const TLS_PORT = 22195;
const stateDir = mkdtempSync(join(tmpdir(), 'kafka-tls-'));
let certificates: TestCertificates;

const broker = (command: 'start' | 'stop') =>
  kafkaScript(command, {
    KAFKA_PORT: String(PLAINTEXT_PORT),
    KAFKA_SSL_PORT: String(TLS_PORT),
    KAFKA_SSL_KEYSTORE: certificates.serverPemFile,
    KAFKA_STATE_DIR: stateDir,
  });

beforeAll(() => {
  certificates = makeCertificates();
  broker('start');
});
afterAll(() => {
  broker('stop');
  rmSync(stateDir, { recursive: true, force: true });
  certificates.remove();
});

describe('Kafka over TLS', () => {
  it('with KAFKA_SSL_CA_FILE both daemons verify the broker and every event is stored once', async () => {
    const world = await createWorld({ databaseUrl: inject('databaseUrl'), kafkaBrokers: `127.0.0.1:${PLAINTEXT_PORT}` });
    const env = { ...world.env, KAFKA_BROKERS: `127.0.0.1:${TLS_PORT}`, KAFKA_SSL_CA_FILE: certificates.caFile };
    const { consumer } = await produceAndStore(world, env, 300);
    expect((await consumer.stop()).code).toBe(0);
  });

  it('a broker certificate it cannot verify stops the daemon with a clear message, not a retry loop', async () => {
    const daemon = spawnDaemon('consumer', {
      KAFKA_BROKERS: `127.0.0.1:${TLS_PORT}`,
      KAFKA_SSL: 'true',
      DATABASE_URL: inject('databaseUrl'),
    });
    expect((await daemon.exited).code).toBe(1);
    const fatal = daemon.logs.filter((line) => line.level >= 50).map((line) => line.msg);
    expect(fatal).toEqual([expect.stringContaining('set KAFKA_SSL_CA_FILE to the CA that signed it')]);
  });

  it.each(['producer', 'consumer'] as const)(
    'TLS configured against a plaintext listener stops the %s within 15 s with one line saying what to set',
    async (name) => {
      const world = await createWorld({ databaseUrl: inject('databaseUrl'), kafkaBrokers: `127.0.0.1:${PLAINTEXT_PORT}` });
      const daemon = spawnDaemon(name, { ...world.env, KAFKA_SSL_CA_FILE: certificates.caFile });
      await expectStopsOnMisconfiguration(daemon, /speaks plaintext, not TLS: unset KAFKA_SSL and KAFKA_SSL_CA_FILE/);
    },
  );

  it.each(['producer', 'consumer'] as const)(
    'plaintext against a TLS listener stops the %s within 15 s with one line saying what to set',
    async (name) => {
      const world = await createWorld({ databaseUrl: inject('databaseUrl'), kafkaBrokers: `127.0.0.1:${PLAINTEXT_PORT}` });
      const daemon = spawnDaemon(name, { ...world.env, KAFKA_BROKERS: `127.0.0.1:${TLS_PORT}` });
      await expectStopsOnMisconfiguration(daemon, /speaks TLS: set KAFKA_SSL=true/);
    },
  );
});
