/**
 * The shipped alert rules, evaluated by a real Prometheus against the real daemons, routed by a real
 * Alertmanager with the shipped routing to a webhook of the test's own: each alert fires on the fault
 * it names and resolves when the fault is gone, and none fires on a healthy pipeline. The rules run
 * on a clock 20 times faster (every `for`, range and offset divided by 20); expressions and thresholds
 * are the shipped ones. PostgreSQL is a server of the test's own, so that it can be stopped.
 */
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { sendPoison } from '../faults/poison.js';
import { alertRulesScaledDown } from '../support/alert-rules.js';
import { alertmanagerBinary, startAlertmanager } from '../support/alertmanager.js';
import { opsPortOf, spawnDaemon } from '../support/daemon.js';
import { createPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { prometheusBinary, startPrometheus } from '../support/prometheus.js';
import { waitFor } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const PORT = 25752;
const CLOCK = 20;

const binaries = { prometheus: prometheusBinary(), alertmanager: alertmanagerBinary() };
// CI installs both; elsewhere the test says why it did not run.
const runs = (binaries.prometheus !== undefined && binaries.alertmanager !== undefined) || process.env.CI === 'true';

let postgres: PostgresServer;
beforeAll(() => {
  if (!runs) return;
  postgres = createPostgresServer(PORT);
  postgres.start();
});
afterAll(() => postgres?.destroy());

describe.skipIf(!runs)('alerts, from the daemons through Prometheus and Alertmanager to a webhook', () => {
  it('stay quiet while all is well, and fire and resolve with PostgreSQL, dead letters and a killed consumer', async () => {
    const world = await createWorld({ databaseUrl: postgres.url, kafkaBrokers: inject('kafkaBrokers') });
    // The guard stops the consumer past 90% of dead letters: close to it (45%) is what is tested here.
    const consumer = spawnDaemon('consumer', { ...world.env, DLQ_MAX_RATIO: '0.9', DLQ_RATIO_WINDOW: '100' });
    const consumerPort = await opsPortOf(consumer);
    // Produced once the consumer is in its group: events waiting for it would be late, as the delay SLO says.
    await waitFor(
      () => fetch(`http://127.0.0.1:${consumerPort}/readyz`).then((response) => response.status),
      (status) => status === 200,
      { what: 'the consumer to be ready' },
    );
    const producer = spawnDaemon('producer', world.env); // one event every 500 ms
    const producerPort = await opsPortOf(producer);

    const alertmanager = await startAlertmanager(binaries.alertmanager ?? 'alertmanager');
    onTestFinished(() => alertmanager.stop());
    const prometheus = await startPrometheus(
      binaries.prometheus ?? 'prometheus',
      { consumer: consumerPort, producer: producerPort },
      { rules: alertRulesScaledDown(CLOCK), alertmanagerPort: alertmanager.port },
    );
    onTestFinished(() => prometheus.stop());
    const notifiedFrom = (since: number, alertname: string, status: 'firing' | 'resolved', timeoutMs = 90_000) =>
      alertmanager.waitForNotification(alertname, status, { since, timeoutMs });

    // Healthy: events flow, and for longer than any shipped `for` up to 5 minutes (15 s here), no alert.
    await waitFor(
      () => prometheus.query('sum(user_actions_events_stored_total)'),
      (stored) => (stored ?? 0) >= 10,
      { what: 'Prometheus to see events stored' },
    );
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    expect(alertmanager.notified.filter((alert) => alert.status === 'firing')).toEqual([]);
    expect(await prometheus.query('count(ALERTS{alertstate="firing"})')).toBeUndefined();

    // Poison messages: dead letters, and their share of the consumer's last 100 messages near its limit.
    let since = alertmanager.notified.length;
    await sendPoison(world.kafka, world.topic, 60, 0);
    const deadLetters = await notifiedFrom(since, 'UserActionsDeadLetters', 'firing');
    expect(deadLetters.annotations.description).toMatch(/^\d+ in the last 10 minutes/);
    const nearTrip = await notifiedFrom(since, 'UserActionsDeadLetterGuardNearTrip', 'firing');
    expect(nearTrip.labels).toMatchObject({ severity: 'critical', job: 'consumer' });

    // PostgreSQL stops: its alert names the consumer, and the pipeline is stalled; both end once it is back.
    since = alertmanager.notified.length;
    postgres.stop('fast');
    const unavailable = await notifiedFrom(since, 'UserActionsPostgresUnavailable', 'firing');
    expect(unavailable.labels).toMatchObject({ severity: 'critical', instance: `127.0.0.1:${consumerPort}` });
    expect(unavailable.annotations.summary).toBe(`PostgreSQL is unavailable to the consumer at 127.0.0.1:${consumerPort}`);
    const stalled = await notifiedFrom(since, 'UserActionsStalled', 'firing');
    expect(stalled.annotations.description).toMatch(/^\d+ events wait in Kafka/);
    since = alertmanager.notified.length;
    postgres.start();
    await notifiedFrom(since, 'UserActionsPostgresUnavailable', 'resolved');
    await notifiedFrom(since, 'UserActionsStalled', 'resolved');

    // The consumer is killed: down.
    since = alertmanager.notified.length;
    await consumer.stop('SIGKILL');
    const down = await notifiedFrom(since, 'UserActionsDaemonDown', 'firing');
    expect(down.labels).toMatchObject({ severity: 'critical', job: 'consumer', instance: `127.0.0.1:${consumerPort}` });

    expect((await producer.stop()).code).toBe(0);
  }, 300_000);
});
