/** Addresses that point at the wrong service: a daemon says so at once instead of waiting forever. */

import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { expectStopsOnMisconfiguration, spawnDaemon } from '../support/daemon.js';
import { createWorld } from '../support/world.js';

function postgresAddress(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || 5432}`;
}

it.each(['producer', 'consumer'] as const)(
  "KAFKA_BROKERS at PostgreSQL's port stops the %s within 15 s with one line saying what to set",
  async (name) => {
    const world = await createWorld();
    const daemon = spawnDaemon(name, { ...world.env, KAFKA_BROKERS: postgresAddress(world.databaseUrl) });
    await expectStopsOnMisconfiguration(daemon, /is not a Kafka broker \(it answered like PostgreSQL\): set KAFKA_BROKERS/);
  },
);

it("DATABASE_URL at Kafka's port stops the consumer within 15 s with one line saying what to set", async () => {
  const world = await createWorld();
  const [broker] = world.env.KAFKA_BROKERS?.split(',') ?? [];
  const daemon = spawnDaemon('consumer', { ...world.env, DATABASE_URL: `postgres://postgres@${broker}/postgres` });
  await expectStopsOnMisconfiguration(daemon, /is a Kafka broker, not PostgreSQL: set DATABASE_URL/);
});

it('a broker that is merely not up yet is waited for, one line per backoff step with the attempt count', async () => {
  const world = await createWorld();
  const daemon = spawnDaemon('producer', { ...world.env, KAFKA_BROKERS: '127.0.0.1:1' });
  await daemon.waitForLog((line) => line.event === LOG_EVENT.waitingForKafka && line.attempt === 2, 40_000);
  expect((await daemon.stop()).code).toBe(0);
  const warnings = daemon.logs.filter((line) => line.level === 40);
  expect(warnings.map((line) => [line.msg, line.attempt])).toEqual([
    ['waiting for Kafka', 1],
    ['waiting for Kafka', 2],
    ...warnings.slice(2).map((line) => ['waiting for Kafka', line.attempt]),
  ]);
  expect(daemon.logs.some((line) => line.component === 'kafkajs')).toBe(false);
});
