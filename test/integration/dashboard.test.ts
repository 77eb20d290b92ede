import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createLoaderMetrics } from '../../consumer/src/metrics.js';
import type { Pool } from '../../consumer/src/storing/db.js';
import { createProducerMetrics } from '../../producer/src/metrics.js';
import { createMetricsRegistry } from '../../shared/src/ops-server.js';

const repo = new URL('../../', import.meta.url).pathname;

/** Every series name the daemons export, with the _bucket/_sum/_count series of their histograms. */
async function exportedSeries(): Promise<Set<string>> {
  const producer = createMetricsRegistry('producer');
  createProducerMetrics(producer);
  const consumer = createMetricsRegistry('consumer');
  createLoaderMetrics(consumer, { totalCount: 0, idleCount: 0, waitingCount: 0 } as Pool);
  const names = new Set(['up']); // Prometheus' own, per target
  for (const registry of [producer, consumer]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

// Words of PromQL that are not series names.
const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'histogram_quantile', 'le', 'action', 'stage', 'partition', 'state', 'm']);

it('the Grafana dashboard parses, and every query names only series the daemons export', async () => {
  const dashboard = JSON.parse(readFileSync(`${repo}monitoring/grafana/dashboards/user-actions.json`, 'utf8'));
  const exported = await exportedSeries();
  const expressions: string[] = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) =>
    panel.targets.map((target) => target.expr),
  );
  expect(expressions.length).toBeGreaterThan(10);
  for (const expression of expressions) {
    const words = (expression.replace(/"[^"]*"|\[[^\]]*\]/g, '').match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []).filter(
      (word) => !PROMQL_WORDS.has(word),
    );
    expect(words.length, expression).toBeGreaterThan(0);
    for (const word of words) expect(exported, `${word} in ${expression}`).toContain(word);
  }
});

// promtool comes with Prometheus, which CI installs: there a missing promtool fails the test; elsewhere
// the test is reported as skipped, never as passed.
const hasPromtool = spawnSync('promtool', ['--version']).error === undefined;

it.skipIf(!hasPromtool && process.env.CI !== 'true')('the Prometheus configuration of the monitoring profile is valid', () => {
  const promtool = spawnSync('promtool', ['check', 'config', `${repo}monitoring/prometheus.yml`], { encoding: 'utf8' });
  expect(promtool.error, 'promtool (Debian package prometheus) is not installed').toBeUndefined();
  expect(promtool.status, promtool.stdout + promtool.stderr).toBe(0);
});
