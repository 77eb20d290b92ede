import { describe, expect, it, onTestFinished } from 'vitest';
import { opsPortOf, spawnDaemon } from '../support/daemon.js';
import { prometheusBinary, startPrometheus } from '../support/prometheus.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const binary = prometheusBinary();
// CI installs Prometheus; elsewhere the test says why it did not run.
const runs = binary !== undefined || process.env.CI === 'true';

async function producedAccordingTo(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('user_actions_events_produced_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe.skipIf(!runs)('a real Prometheus server scraping both daemons', () => {
  it('reads back what was produced and stored, by action, and both targets up', async () => {
    const world = await createWorld();
    const consumer = spawnDaemon('consumer', world.env);
    const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '200' });
    const [consumerPort, producerPort] = await Promise.all([opsPortOf(consumer), opsPortOf(producer)]);
    const prometheus = await startPrometheus(binary ?? 'prometheus', { consumer: consumerPort, producer: producerPort });
    onTestFinished(() => prometheus.stop());

    expect(
      await waitFor(
        () => prometheus.query('min(up)'),
        (up) => up === 1,
        { what: 'both targets up' },
      ),
    ).toBe(1);

    // While the producer runs, there are moments when everything agrees: what the producer says it
    // sent, what Prometheus scraped from it and from the consumer, and the rows in the table.
    await waitFor(
      async () => {
        const [direct, produced, stored, rows] = await Promise.all([
          producedAccordingTo(producerPort),
          prometheus.query('sum(user_actions_events_produced_total)'),
          prometheus.query('sum(user_actions_events_stored_total)'),
          world.rowCount(),
        ]);
        return { direct, produced, stored, rows };
      },
      ({ direct, produced, stored, rows }) => direct >= 20 && produced === direct && stored === direct && rows === direct,
      { what: 'Prometheus, the producer and the table to agree' },
    );

    await producer.stop();
    const rows = await waitUntilStable(world.rowCount);
    const byAction = new Map(
      (
        await world.db.query<{ action: string; count: string }>('SELECT action, count(*) FROM useractions GROUP BY action')
      ).rows.map((row) => [row.action, Number(row.count)]),
    );
    const consumedByAction = await waitFor(
      () => prometheus.queryBy('sum by (action) (user_actions_events_consumed_total)', 'action'),
      (consumed) => [...consumed.values()].reduce((sum, count) => sum + count, 0) === rows,
      { what: 'Prometheus to have scraped every consumed event' },
    );
    expect(consumedByAction).toEqual(byAction);
    expect(await prometheus.query('sum(user_actions_events_stored_total)')).toBe(rows);
    expect(await prometheus.query('sum(user_actions_consumer_lag_messages)')).toBe(0);
    expect(await prometheus.query('sum(user_actions_insert_duration_seconds_count)')).toBeGreaterThan(0);
    // Every stored event's delay, read as a histogram: one observation each, and a quantile of them.
    // Observed once the batch's offset is committed, a moment after the stored counter moves.
    await waitFor(
      () => prometheus.query('sum(user_actions_event_delay_seconds_count)'),
      (count) => count === rows,
      { what: 'one delay observed for every stored event' },
    );
    const p99 = await prometheus.query('histogram_quantile(0.99, sum by (le) (user_actions_event_delay_seconds_bucket))');
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThan(60);
    expect((await consumer.stop()).code).toBe(0);
  });
});
