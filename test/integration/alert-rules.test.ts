/**
 * The shipped alert rules and Alertmanager configuration: valid, unit-tested with promtool, naming only
 * series the daemons export, and listed in docs/alerts.md exactly as written, each with a runbook.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERT_RULES_FILE } from '../support/alert-rules.js';
import { exportedSeries, wordsOf } from '../support/exported-series.js';

const repo = new URL('../../', import.meta.url).pathname;

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; description?: string };
}
const rules: Rule[] = (parse(readFileSync(ALERT_RULES_FILE, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (group) => group.rules,
);
const alerts = rules.filter((rule) => rule.alert !== undefined);

// promtool and amtool come with Debian's prometheus and prometheus-alertmanager, which CI installs:
// there a missing tool fails the test; elsewhere the test is reported as skipped, never as passed.
const has = (tool: string) => spawnSync(tool, ['--version']).error === undefined;
const run = (tool: string, args: string[]) => {
  const result = spawnSync(tool, args, { cwd: `${repo}monitoring`, encoding: 'utf8' });
  expect(result.error, `${tool} is not installed`).toBeUndefined();
  expect(result.status, result.stdout + result.stderr).toBe(0);
};
const inCi = process.env.CI === 'true';

describe('the alert rules', () => {
  it.skipIf(!has('promtool') && !inCi)('are valid, and each alert passes its promtool unit test', () => {
    run('promtool', ['check', 'rules', 'alerts.yml']);
    run('promtool', ['test', 'rules', 'alerts.test.yml']);
    const tested = readFileSync(`${repo}monitoring/alerts.test.yml`, 'utf8');
    for (const { alert } of alerts) expect(tested, `${alert} has no promtool test`).toContain(`alertname: ${alert}`);
  });

  it('have a severity, a summary and a description each', () => {
    expect(alerts.length).toBeGreaterThan(15);
    for (const alert of alerts) {
      expect(['critical', 'warning'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      expect(alert.annotations?.description, alert.alert).toBeTruthy();
    }
  });

  it('name only series the daemons export', async () => {
    const exported = await exportedSeries();
    const recorded = new Set(rules.flatMap((rule) => (rule.record ? [rule.record] : [])));
    const notSeries = new Set([
      ...['sum', 'max', 'by', 'on', 'and', 'or', 'unless', 'offset', 'rate', 'increase', 'deriv', 'absent', 'changes'],
      ...['job', 'instance', 'dependency', 'le'],
    ]);
    for (const rule of rules) {
      for (const word of wordsOf(rule.expr, notSeries)) {
        expect(exported.has(word) || recorded.has(word), `${word} in ${rule.alert ?? rule.record}`).toBe(true);
      }
    }
  });

  it('are listed in docs/alerts.md as written, each with its runbook', () => {
    const doc = readFileSync(`${repo}docs/alerts.md`, 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => line.startsWith('| [UserActions'))
      .map((line) =>
        line
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((cell) => cell.trim().replaceAll('\\|', '|')),
      );
    const listed = rows.map(([name, severity, condition, duration]) => ({
      alert: /^\[(\w+)\]/.exec(name ?? '')?.[1],
      severity,
      expr: condition?.replace(/^`|`$/g, ''),
      for: duration === '—' ? undefined : duration,
    }));
    const shipped = alerts.map((rule) => ({
      alert: rule.alert,
      severity: rule.labels?.severity,
      expr: rule.expr.replace(/\s+/g, ' ').trim(),
      for: rule.for,
    }));
    expect(listed).toEqual(shipped);
    for (const { alert } of alerts) expect(doc, `the runbook of ${alert}`).toContain(`\n### ${alert}\n`);
  });
});

describe('the Alertmanager configuration', () => {
  it.skipIf(!has('amtool') && !inCi)('is valid', () => {
    run('amtool', ['check-config', 'alertmanager.yml']);
  });
});
