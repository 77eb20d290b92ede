/**
 * Finds or starts the real services the integration tests need, and builds the daemons they run:
 * - Kafka: KAFKA_BROKERS if set; otherwise a local broker started with scripts/kafka.sh (needs Java);
 *   otherwise a Testcontainers broker when a Docker engine is reachable.
 * - PostgreSQL: DATABASE_URL if set (a role that may CREATE DATABASE); otherwise the local server at
 *   postgres://postgres@127.0.0.1:5432/postgres; otherwise a Testcontainers server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { assertBrokerVersion, kafkaVersion } from '../../scripts/kafka-version.mjs';
import { kafkaScript } from './local-kafka.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    databaseUrl: string;
  }
}

const repo = new URL('../../', import.meta.url).pathname;
const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const TEST_KAFKA_PORT = '19092';
const KAFKA_IMAGE = `apache/kafka:${kafkaVersion()}`;
const POSTGRES_IMAGE = 'postgres:17';

type Teardown = () => Promise<void> | void;

export default async function setup(project: TestProject): Promise<Teardown> {
  const teardowns: Teardown[] = [];
  buildDaemons();
  project.provide('kafkaBrokers', await findKafka(teardowns));
  project.provide('databaseUrl', await findPostgres(teardowns));
  return async () => {
    for (const teardown of teardowns.reverse()) await teardown();
  };
}

function buildDaemons(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b'], { cwd: repo, stdio: 'inherit' });
}

async function findKafka(teardowns: Teardown[]): Promise<string> {
  if (process.env.KAFKA_BROKERS && process.env.KAFKA_VERSION) {
    throw new Error('KAFKA_VERSION picks the broker the tests start; unset KAFKA_BROKERS, or KAFKA_VERSION to use that broker');
  }
  if (process.env.KAFKA_BROKERS) return process.env.KAFKA_BROKERS;
  if (commandExists('java')) return startLocalKafka(teardowns);
  if (await dockerReachable()) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const container = await new KafkaContainer(KAFKA_IMAGE).withKraft().start();
    teardowns.push(() => container.stop().then(() => undefined));
    return `${container.getHost()}:${container.getMappedPort(9093)}`;
  }
  throw new Error(
    'No Kafka broker for the integration tests. Either install Java 17+ and Maven (the tests then start one), ' +
      'run `npm run kafka:start` and `KAFKA_BROKERS=127.0.0.1:9092 npm test`, or start a Docker engine.',
  );
}

function startLocalKafka(teardowns: Teardown[]): string {
  const stateDir = mkdtempSync(join(tmpdir(), 'user-actions-test-kafka-'));
  const settings = { KAFKA_PORT: TEST_KAFKA_PORT, KAFKA_STATE_DIR: stateDir };
  kafkaScript('start', settings, { stdio: 'inherit' });
  assertBrokerVersion(stateDir);
  teardowns.push(() => {
    kafkaScript('stop', settings, { stdio: 'inherit' });
    rmSync(stateDir, { recursive: true, force: true });
  });
  return `127.0.0.1:${TEST_KAFKA_PORT}`;
}

async function findPostgres(teardowns: Teardown[]): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (await postgresAnswers(LOCAL_POSTGRES)) return LOCAL_POSTGRES;
  if (await dockerReachable()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
    teardowns.push(() => container.stop().then(() => undefined));
    return container.getConnectionUri();
  }
  throw new Error(
    `No PostgreSQL for the integration tests: nothing answers at ${LOCAL_POSTGRES} and no Docker engine is reachable. ` +
      'Start PostgreSQL, or set DATABASE_URL to a role that may CREATE DATABASE, then run `npm test` again.',
  );
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function dockerReachable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}
