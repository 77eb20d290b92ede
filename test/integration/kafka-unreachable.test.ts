import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

it('both daemons started before Kafka is reachable wait for it, then run', async () => {
  const world = await createWorld();
  // The daemons bootstrap through a proxy that refuses connections until it is opened; after that the
  // broker's metadata sends them to its real address.
  const [host, port] = (world.env.KAFKA_BROKERS?.split(',')[0] ?? '').split(':');
  const proxy = await createTcpProxy({ host: host ?? '127.0.0.1', port: Number(port) });
  const env = { ...world.env, KAFKA_BROKERS: `127.0.0.1:${proxy.port}` };

  const consumer = spawnDaemon('consumer', env);
  const producer = spawnDaemon('producer', { ...env, PRODUCER_INTERVAL_MS: '5', PRODUCER_COUNT: '100' });
  for (const daemon of [consumer, producer]) {
    await daemon.waitForLog((line) => line.event === LOG_EVENT.waitingForKafka);
  }

  await proxy.open();
  expect((await producer.exited).code).toBe(0);
  await world.waitForRows(100, '100 rows once Kafka is reachable');
  expect(await waitUntilStable(world.rowCount)).toBe(100);
  expect((await consumer.stop()).code).toBe(0);
});
