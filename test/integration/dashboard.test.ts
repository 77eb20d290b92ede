import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { exportedSeries, wordsOf } from '../support/exported-series.js';

const repo = new URL('../../', import.meta.url).pathname;

// Words of PromQL that are not series names.
const PROMQL_WORDS = new Set([
  'sum',
  'by',
  'rate',
  'histogram_quantile',
  'le',
  'action',
  'stage',
  'partition',
  'state',
  'm',
  'alertstate',
]);

it('the Grafana dashboard parses, and every query names only series the daemons export', async () => {
  const dashboard = JSON.parse(readFileSync(`${repo}monitoring/grafana/dashboards/user-actions.json`, 'utf8'));
  const exported = await exportedSeries();
  const expressions: string[] = dashboard.panels.flatMap((panel: { targets: { expr: string }[] }) =>
    panel.targets.map((target) => target.expr),
  );
  expect(expressions.length).toBeGreaterThan(10);
  for (const expression of expressions) {
    const words = wordsOf(expression, PROMQL_WORDS);
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
