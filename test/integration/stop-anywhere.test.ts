/**
 * A SIGTERM in any state ends a daemon with exit 0 within the grace (SHUTDOWN_GRACE_MS): while it waits
 * for Kafka or PostgreSQL at start, and while a batch waits out a PostgreSQL outage (its offset safe in
 * PostgreSQL, so the next consumer stores it once).
 */
import { LOG_EVENT } from '@user-actions/shared';
import { SHUTDOWN_GRACE_MS } from '@user-actions/shared/daemon';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitUntilStable } from '../support/wait.js';
import { createWorld, type World } from '../support/world.js';

async function postgresProxy(world: World) {
  const real = new URL(world.databaseUrl);
  const proxy = await createTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
  const throughProxy = new URL(world.databaseUrl);
  throughProxy.hostname = '127.0.0.1';
  throughProxy.port = String(proxy.port);
  return { proxy, databaseUrl: throughProxy.toString() };
}

it('a SIGTERM while the daemons wait for Kafka at start ends them with exit 0 within the grace', async () => {
  const world = await createWorld();
  const [host, port] = (world.env.KAFKA_BROKERS?.split(',')[0] ?? '').split(':');
  const proxy = await createTcpProxy({ host: host ?? '127.0.0.1', port: Number(port) });
  const env = { ...world.env, KAFKA_BROKERS: `127.0.0.1:${proxy.port}` };
  const names = ['consumer', 'producer'] as const;
  const daemons = names.map((name) => spawnDaemon(name, env));
  for (const daemon of daemons) await daemon.waitForLog((line) => line.event === LOG_EVENT.waitingForKafka);

  const exits = await Promise.all(daemons.map((daemon) => daemon.stop()));
  exits.forEach((exit, index) => {
    const name = names[index];
    const { logs, text } = daemons[index] as (typeof daemons)[number];
    // The daemon's last lines say why, should it fail.
    expect({ name, code: exit.code, last: exit.code === 0 ? [] : [...logs.slice(-6), ...text.slice(-6)] }).toEqual({
      name,
      code: 0,
      last: [],
    });
    expect({ name, withinGrace: exit.ms < SHUTDOWN_GRACE_MS, ms: exit.ms }).toMatchObject({ name, withinGrace: true });
  });
});

it('a SIGTERM while the consumer waits for PostgreSQL at start ends it with exit 0 within the grace', async () => {
  const world = await createWorld();
  const { databaseUrl } = await postgresProxy(world);
  const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_URL: databaseUrl });
  await consumer.waitForLog((line) => line.event === LOG_EVENT.waitingForPostgres && Number(line.attempt) >= 2);

  const exit = await consumer.stop();
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(SHUTDOWN_GRACE_MS);
});

it('a SIGTERM while a batch waits out a PostgreSQL outage ends with exit 0 within the grace, and the batch is stored once later', async () => {
  const world = await createWorld();
  const { proxy, databaseUrl } = await postgresProxy(world);
  await proxy.open();
  const env = { ...world.env, DATABASE_URL: databaseUrl };
  const consumer = spawnDaemon('consumer', env);
  await consumer.waitForLog((line) => line.event === LOG_EVENT.consuming);
  await proxy.close();
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '100' });
  expect((await producer.exited).code).toBe(0);
  await consumer.waitForLog((line) => line.event === LOG_EVENT.notReady && line.dependency === 'postgres');

  const exit = await consumer.stop();
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(SHUTDOWN_GRACE_MS);

  await proxy.open();
  const next = spawnDaemon('consumer', env);
  await world.waitForRows(100, 'the 100 events stored by the next consumer');
  expect(await waitUntilStable(world.rowCount)).toBe(100);
  expect((await next.stop()).code).toBe(0);
});
