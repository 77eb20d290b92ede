/**
 * Each daemon's service (and the dead-letter replay) started in this process and stopped: what it opened is closed — sockets,
 * servers, timers, threads, PostgreSQL sessions — and no signal listener is left.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { expect, it } from 'vitest';
// The builds, as the daemons run them: their worker threads load built files.
import { startApi } from '../../api/dist/api.js';
import { loadApiConfig } from '../../api/dist/config.js';
import { loadConsumerConfig } from '../../consumer/dist/config.js';
import { startConsumer } from '../../consumer/dist/consumer.js';
import { startReplay } from '../../consumer/dist/dlq-replay.js';
import { loadProducerConfig } from '../../producer/dist/config.js';
import { startProducer } from '../../producer/dist/producer.js';
import { LOG_EVENT } from '../../shared/src/log-events.js';
import type { Service } from '../../shared/src/service.js';
import { createTopic, produceRaw, readTopic } from '../support/kafka.js';
import { waitFor } from '../support/wait.js';
import { createWorld, type World } from '../support/world.js';

/** A logger whose lines the test can read. */
function loggerInto(lines: Record<string, unknown>[]) {
  const into = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return pino({ level: 'info' }, into);
}

/** What keeps this process's event loop busy, by kind (sockets, servers, timers, threads…). */
function openResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

const signalListeners = () => ['SIGTERM', 'SIGINT'].map((signal) => process.listenerCount(signal));

async function sessionsOf(world: World, application: string): Promise<number> {
  const { rows } = await world.db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1',
    [application],
  );
  return rows[0]?.count ?? 0;
}

/**
 * Starts a service, lets it work until `worked` resolves, stops it, and checks that nothing it opened
 * is left: the test's own clients are connected before, so that whatever is open after is the service's.
 */
async function startWorkAndStop(
  world: World,
  start: () => Service,
  worked: (service: Service) => Promise<unknown>,
  application?: string,
) {
  await world.rowCount();
  const resources = openResources();
  const listeners = signalListeners();
  const service = start();
  // A service that fails meanwhile fails the test with its own error.
  await Promise.race([worked(service), service.stopped.then(() => worked(service))]);
  await service.stop();
  await waitFor(openResources, (now) => Object.entries(now).every(([kind, count]) => count <= (resources[kind] ?? 0)), {
    what: `no more open than before the start (${JSON.stringify(resources)})`,
    timeoutMs: 10_000,
  });
  expect(signalListeners()).toEqual(listeners);
  if (application) expect(await sessionsOf(world, application)).toBe(0);
}

it('the producer, the consumer, the replay and the API, each started in-process and stopped, leave nothing open', async () => {
  const world = await createWorld();
  await createTopic(world.admin, world.topic);
  const env = { ...world.env, METRICS_PORT: '0', PRODUCER_INTERVAL_MS: '5' };
  const lines: Record<string, unknown>[] = [];
  // The producer stops by itself once it has sent its 200 events.
  await startWorkAndStop(
    world,
    () => startProducer(loadProducerConfig(env, ['--count', '200']), loggerInto(lines)),
    (producer) => producer.stopped,
  );
  expect(lines.find((line) => line.event === LOG_EVENT.stoppedGenerating)).toMatchObject({ sent: 200 });
  // And one message that is not an event, for the consumer to dead-letter and the replay to send back.
  await produceRaw(world.kafka, world.topic, [{ value: 'not an event' }]);
  await startWorkAndStop(
    world,
    () => startConsumer(loadConsumerConfig(env), loggerInto(lines)),
    async () => {
      await world.waitForRows(200);
      await waitFor(
        () => readTopic(world.kafka, world.admin, `${world.topic}.dlq`),
        (found) => found.length === 1,
        { what: 'the message dead-lettered' },
      );
    },
    'user-actions-consumer',
  );
  expect(await world.rowCount()).toBe(200);
  // The replay stops by itself once it has sent the dead letter back.
  await startWorkAndStop(
    world,
    () => startReplay(loadConsumerConfig(env), loggerInto(lines)),
    (replay) => replay.stopped,
  );
  expect(lines.find((line) => line.event === LOG_EVENT.deadLettersReplayed)).toMatchObject({ replayed: 1 });

  const token = 'a-token-of-at-least-sixteen-characters';
  const apiEnv = { DATABASE_URL: world.databaseUrl, API_PORT: '0', API_TOKENS: token };
  const apiLines: Record<string, unknown>[] = [];
  await startWorkAndStop(
    world,
    () => startApi(loadApiConfig(apiEnv), loggerInto(apiLines)),
    async () => {
      const serving = await waitFor(() => apiLines.find((line) => line.event === LOG_EVENT.serving), Boolean, {
        what: 'the API serving',
      });
      const response = await fetch(new URL('/api/user/actions', String(serving?.url)), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toHaveLength(200);
    },
    'user-actions-api',
  );
});
