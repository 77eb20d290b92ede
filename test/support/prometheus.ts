/**
 * A real Prometheus server (the machine's `prometheus` binary) scraping the given targets every 250 ms,
 * and its HTTP query API; given rules, it evaluates them every second and sends its alerts to the
 * Alertmanager given.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { waitForHttpOk } from './wait.js';

export interface Prometheus {
  /** The value of an instant query that yields one sample; undefined while it yields none. */
  query(expression: string): Promise<number | undefined>;
  /** Every sample of an instant query, by the value of one label. */
  queryBy(expression: string, label: string): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export function prometheusBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? undefined : found;
}

export interface AlertingOptions {
  /** The text of a rules file. */
  rules: string;
  alertmanagerPort: number;
}

/** `targets`: job name → the port of a /metrics endpoint on 127.0.0.1. */
export async function startPrometheus(
  binary: string,
  targets: Record<string, number>,
  alerting?: AlertingOptions,
): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const scrapeConfigs = Object.entries(targets)
    .map(([job, port]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['127.0.0.1:${port}']`)
    .join('\n');
  let alertingConfig = '';
  if (alerting) {
    writeFileSync(join(dir, 'rules.yml'), alerting.rules);
    alertingConfig =
      `rule_files: [rules.yml]\nalerting:\n  alertmanagers:\n` +
      `    - static_configs:\n        - targets: ['127.0.0.1:${alerting.alertmanagerPort}']\n`;
  }
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 250ms\n  scrape_timeout: 200ms\n  evaluation_interval: 1s\n${alertingConfig}scrape_configs:\n${scrapeConfigs}\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--rules.alert.resend-delay=1s',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const api = `http://127.0.0.1:${port}/api/v1`;

  const instant = async (expression: string) => {
    const response = await fetch(`${api}/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    return body.data?.result ?? [];
  };
  await waitForHttpOk(`http://127.0.0.1:${port}/-/ready`, 'Prometheus to be ready');

  return {
    async query(expression) {
      const [sample] = await instant(expression);
      return sample ? Number(sample.value[1]) : undefined;
    },
    async queryBy(expression, label) {
      return new Map((await instant(expression)).map((sample) => [sample.metric[label] ?? '', Number(sample.value[1])]));
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
