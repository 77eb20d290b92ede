import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

it('a consumer started while PostgreSQL is unreachable loads everything once it is reachable', async () => {
  const world = await createWorld();
  const real = new URL(world.databaseUrl);
  const proxy = await createTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
  const throughProxy = new URL(world.databaseUrl);
  throughProxy.hostname = '127.0.0.1';
  throughProxy.port = String(proxy.port);
  // A password (the local server ignores it under trust authentication) that must never be logged.
  throughProxy.password = 'never-log-this-secret';

  const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_URL: throughProxy.toString() });
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '2', PRODUCER_COUNT: '200' });
  expect((await producer.exited).code).toBe(0);
  await consumer.waitForLog((line) => line.event === LOG_EVENT.waitingForPostgres);
  await consumer.waitForLog((line) => line.event === LOG_EVENT.waitingForPostgres && Number(line.attempt) >= 3);
  expect(consumer.logs.some((line) => line.event === LOG_EVENT.tableReady)).toBe(false);

  await proxy.open();
  await world.waitForRows(200, '200 rows once PostgreSQL is reachable');
  expect(await waitUntilStable(world.rowCount)).toBe(200);
  expect((await consumer.stop()).code).toBe(0);
  // The wait is logged with where it waits, but without the password.
  const logged = JSON.stringify([consumer.logs, consumer.text]);
  expect(logged).toContain(`127.0.0.1:${proxy.port}`);
  expect(logged).not.toContain('never-log-this-secret');
});

it('a PostgreSQL outage mid-run delays the batch instead of losing or committing it', async () => {
  const world = await createWorld();
  const real = new URL(world.databaseUrl);
  const proxy = await createTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
  await proxy.open();
  const throughProxy = new URL(world.databaseUrl);
  throughProxy.hostname = '127.0.0.1';
  throughProxy.port = String(proxy.port);

  const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_URL: throughProxy.toString() });
  await consumer.waitForLog((line) => line.event === LOG_EVENT.consuming);
  const first = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '100' });
  expect((await first.exited).code).toBe(0);
  await world.waitForRows(100, 'the first 100 rows');

  await proxy.close();
  const second = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: '100' });
  expect((await second.exited).code).toBe(0);
  // Said once when it starts, in every summary line while it lasts, once when it ends.
  const lost = await consumer.waitForLog((line) => line.event === LOG_EVENT.notReady && line.dependency === 'postgres');
  expect(lost.reason).toMatch(/^PostgreSQL unavailable: /);
  // A summary line from before the group was joined names Kafka: the one that counts comes after the outage began.
  const summary = await consumer.waitForLog(
    (line) =>
      line.event === LOG_EVENT.loaderSummary &&
      consumer.logs.indexOf(line) > consumer.logs.indexOf(lost) &&
      Array.isArray(line.notReady) &&
      line.notReady.length > 0,
  );
  expect(summary.notReady).toContainEqual({
    dependency: 'postgres',
    reason: expect.stringMatching(/^PostgreSQL unavailable: /),
    since: expect.any(String),
  });
  await proxy.open();

  await world.waitForRows(200, 'all 200 rows after the outage');
  const back = await consumer.waitForLog((line) => line.event === LOG_EVENT.readyAgain && line.dependency === 'postgres');
  expect(back.unmetForMs).toBeGreaterThan(0);
  expect(consumer.logs.filter((line) => line.event === LOG_EVENT.notReady && line.dependency === 'postgres')).toHaveLength(1);
  expect(await waitUntilStable(world.rowCount)).toBe(200);
  expect((await consumer.stop()).code).toBe(0);
});
