import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { opsPortOf, spawnDaemon } from '../support/daemon.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { createWorld } from '../support/world.js';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample line of the Prometheus text format, summed over its label sets. */
function metric(text: string, name: string, labels = ''): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

it('both daemons serve metrics that match what was produced and stored, and say when they are ready', async () => {
  const world = await createWorld();
  const consumer = spawnDaemon('consumer', world.env);
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '5' });
  const consumerPort = await opsPortOf(consumer);

  await world.waitForRows(200, '200 rows');
  await producer.stop('SIGTERM');
  const sent = Number((await producer.waitForLog((line) => line.event === LOG_EVENT.stoppedGenerating)).sent);
  await world.waitForRows(sent, 'every sent event stored');

  const consumerMetrics = await waitFor(
    () => get(consumerPort, '/metrics').then((response) => response.body),
    // The delay is observed once the batch's offset is committed, a moment after the stored counter moves.
    (text) =>
      metric(text, 'user_actions_events_stored_total') === sent &&
      metric(text, 'user_actions_event_delay_seconds_count') === sent,
    { what: 'the stored counter and the delay histogram to reach what was sent' },
  );
  // A batch read again after a rebalance is consumed twice and skipped once as redelivered.
  const redelivered = metric(consumerMetrics, 'user_actions_events_redelivered_total');
  expect(metric(consumerMetrics, 'user_actions_events_consumed_total')).toBe(sent + redelivered);
  expect(metric(consumerMetrics, 'user_actions_consumer_lag_messages')).toBe(0);
  expect(metric(consumerMetrics, 'user_actions_insert_duration_seconds_count')).toBeGreaterThan(0);
  expect(metric(consumerMetrics, 'user_actions_event_delay_seconds_bucket', 'le="+Inf"')).toBe(sent);
  expect(metric(consumerMetrics, 'user_actions_event_delay_seconds_sum')).toBeGreaterThan(0);
  expect(metric(consumerMetrics, 'user_actions_pg_pool_connections', 'state="total"')).toBeGreaterThan(0);
  expect(consumerMetrics).toContain('process_resident_memory_bytes');
  const byAction = await world.db.query<{ action: string; count: string }>(
    'SELECT action, count(*) FROM useractions GROUP BY action',
  );
  for (const { action, count } of byAction.rows) {
    const consumed = metric(consumerMetrics, 'user_actions_events_consumed_total', `action="${action}"`);
    if (redelivered === 0) expect(consumed, action).toBe(Number(count));
    else expect(consumed, action).toBeGreaterThanOrEqual(Number(count));
  }
  expect(await get(consumerPort, '/readyz')).toMatchObject({ status: 200 });
  expect(await get(consumerPort, '/healthz')).toMatchObject({ status: 200 });
  expect((await consumer.stop()).code).toBe(0);
});

it('the producer counts what the broker acknowledged', async () => {
  const world = await createWorld();
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '2' });
  const port = await opsPortOf(producer);
  await producer.waitForLog((line) => line.event === LOG_EVENT.producerSummary);
  expect(await get(port, '/readyz')).toMatchObject({ status: 200 });
  const text = (await get(port, '/metrics')).body;
  expect(metric(text, 'user_actions_events_produced_total')).toBeGreaterThan(0);
  expect(metric(text, 'user_actions_send_duration_seconds_count')).toBeGreaterThan(0);
  expect((await producer.stop()).code).toBe(0);
});

it('the consumer is alive but not ready while PostgreSQL is unreachable', async () => {
  const world = await createWorld();
  const proxy = await createTcpProxy({ host: '127.0.0.1', port: 5432 }); // never opened
  const unreachable = new URL(world.databaseUrl);
  unreachable.port = String(proxy.port);
  const consumer = spawnDaemon('consumer', { ...world.env, DATABASE_URL: unreachable.toString() });
  const port = await opsPortOf(consumer);
  await consumer.waitForLog((line) => line.event === LOG_EVENT.waitingForPostgres);

  expect(await get(port, '/healthz')).toMatchObject({ status: 200 });
  const readiness = await get(port, '/readyz');
  expect(readiness.status).toBe(503);
  const body = JSON.parse(readiness.body);
  expect(body.missing).toEqual(['table not created yet', 'not in the consumer group yet']);
  // Which dependency, and since when.
  expect(body.unmet).toEqual([
    { dependency: 'postgres', reason: 'table not created yet', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    { dependency: 'kafka', reason: 'not in the consumer group yet', since: expect.any(String) },
  ]);
  expect((await consumer.stop()).code).toBe(0);
});

/** Every thread's utilisation, by thread. */
function threadUtilization(text: string): Record<string, number> {
  const busy: Record<string, number> = {};
  for (const [, thread, value] of text.matchAll(/^user_actions_thread_utilization\{thread="([^"]+)"[^}]*\} (\S+)$/gm)) {
    busy[thread as string] = Number(value);
  }
  return busy;
}

it('both daemons say how busy each of their threads is, the one generating and the one decoding included', async () => {
  const world = await createWorld();
  const consumer = spawnDaemon('consumer', world.env);
  const producer = spawnDaemon('producer', world.env, ['--rate', '5000', '--count', '25000']);
  const [consumerPort, producerPort] = await Promise.all([opsPortOf(consumer), opsPortOf(producer)]);
  await world.waitForRows(1_000, 'the first rows');

  // Utilisation is measured between scrapes: the first scrape starts an interval, the next one ends it.
  await Promise.all([get(producerPort, '/metrics'), get(consumerPort, '/metrics')]);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const producerThreads = threadUtilization((await get(producerPort, '/metrics')).body);
  const consumerThreads = threadUtilization((await get(consumerPort, '/metrics')).body);

  expect(Object.keys(producerThreads).sort()).toEqual(['generator', 'main']);
  expect(Object.keys(consumerThreads).sort()).toEqual(['decoder', 'main']);
  for (const busy of [...Object.values(producerThreads), ...Object.values(consumerThreads)]) {
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(1);
  }
  await producer.stop('SIGTERM');
  expect((await consumer.stop()).code).toBe(0);
});
