import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FATAL_CODES } from '@user-actions/shared';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectStopsOnMisconfiguration, spawnDaemon } from '../support/daemon.js';
import { kafkaScript } from '../support/local-kafka.js';
import { produceAndStore } from '../support/pipeline.js';
import { createWorld } from '../support/world.js';

// A broker of its own, with a SASL_PLAINTEXT listener and SCRAM credentials stored at format time.
const PLAINTEXT_PORT = 22092;
const SASL_PORT = 22094;
const USER = { name: 'loader', password: 'correct horse battery staple' };
const stateDir = mkdtempSync(join(tmpdir(), 'kafka-sasl-'));
const brokerSettings = {
  KAFKA_PORT: String(PLAINTEXT_PORT),
  KAFKA_SASL_PORT: String(SASL_PORT),
  KAFKA_SASL_USERS: `${USER.name}:${USER.password}`,
  KAFKA_STATE_DIR: stateDir,
};
const broker = (command: 'start' | 'stop') => kafkaScript(command, brokerSettings);

beforeAll(() => broker('start'));
afterAll(() => {
  broker('stop');
  rmSync(stateDir, { recursive: true, force: true });
});

async function saslWorld(mechanism: string, password: string) {
  // The test itself (topics, offsets) uses the plaintext listener; the daemons only the SASL one.
  const world = await createWorld({ databaseUrl: inject('databaseUrl'), kafkaBrokers: `127.0.0.1:${PLAINTEXT_PORT}` });
  const env = {
    ...world.env,
    KAFKA_BROKERS: `127.0.0.1:${SASL_PORT}`,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: USER.name,
    KAFKA_SASL_PASSWORD: password,
  };
  return { world, env };
}

describe('Kafka with SASL authentication', () => {
  it.each(['plain', 'scram-sha-256', 'scram-sha-512'])(
    '%s with the right password: every event stored once',
    async (mechanism) => {
      const { world, env } = await saslWorld(mechanism, USER.password);
      const { producer, consumer } = await produceAndStore(world, env, 300);
      expect((await consumer.stop()).code).toBe(0);
      for (const daemon of [producer, consumer]) expect(JSON.stringify(daemon.logs)).not.toContain(USER.password);
    },
  );

  it.each(['producer', 'consumer'] as const)(
    'a wrong password stops the %s with one clear message and exit code 1',
    async (name) => {
      const { env } = await saslWorld('scram-sha-512', 'wrong password');
      const daemon = spawnDaemon(name, env);
      const exit = await daemon.exited;
      expect(exit.code).toBe(1);
      const fatal = daemon.logs.filter((line) => line.level >= 50);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]?.msg).toMatch(
        /^Kafka refused the credentials in KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD \(.*authentication failed/i,
      );
      expect(fatal[0]?.code).toBe(FATAL_CODES.kafkaRefused);
      expect(daemon.text.join('\n')).not.toMatch(/^\s+at /m); // no stack trace
      expect(JSON.stringify(daemon.logs)).not.toContain('wrong password');
    },
  );

  it.each(['producer', 'consumer'] as const)(
    'SASL configured against a listener without it stops the %s within 15 s with one line saying what to set',
    async (name) => {
      const { env } = await saslWorld('scram-sha-512', USER.password);
      const daemon = spawnDaemon(name, { ...env, KAFKA_BROKERS: `127.0.0.1:${PLAINTEXT_PORT}` });
      await expectStopsOnMisconfiguration(
        daemon,
        /does not use SASL, but KAFKA_SASL_MECHANISM is set: unset KAFKA_SASL_MECHANISM/,
      );
    },
  );

  it.each(['producer', 'consumer'] as const)(
    'no SASL configured against a listener that requires it stops the %s within 15 s with one line saying what to set',
    async (name) => {
      const world = await createWorld({ databaseUrl: inject('databaseUrl'), kafkaBrokers: `127.0.0.1:${PLAINTEXT_PORT}` });
      const daemon = spawnDaemon(name, { ...world.env, KAFKA_BROKERS: `127.0.0.1:${SASL_PORT}` });
      await expectStopsOnMisconfiguration(
        daemon,
        /requires SASL authentication \(it offers .*SCRAM-SHA-512.*\): set KAFKA_SASL_MECHANISM/,
      );
    },
  );
});
