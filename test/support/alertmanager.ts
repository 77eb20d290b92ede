/**
 * A real Alertmanager (the machine's: Debian names it `prometheus-alertmanager`) with the routing and
 * inhibitions of monitoring/alertmanager.yml, its receiver given a webhook that this module serves, and
 * its waits shortened for a test. Every notification the webhook receives is kept.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from './ports.js';
import { waitFor, waitForHttpOk } from './wait.js';

const repo = new URL('../../', import.meta.url).pathname;

/** One alert as a webhook notification carries it. */
export interface NotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Alertmanager {
  readonly port: number;
  /** Every alert of every notification, in the order they arrived. */
  readonly notified: NotifiedAlert[];
  /** The first notification of `alertname` in `status` from `since` (an index into `notified`) on. */
  waitForNotification(
    alertname: string,
    status: NotifiedAlert['status'],
    options: { since: number; timeoutMs: number },
  ): Promise<NotifiedAlert>;
  stop(): Promise<void>;
}

export function alertmanagerBinary(): string | undefined {
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found !== '') return found;
  }
  return undefined;
}

interface Route {
  receiver?: string;
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}

export async function startAlertmanager(binary: string): Promise<Alertmanager> {
  const notified: NotifiedAlert[] = [];
  const webhook = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      notified.push(...(JSON.parse(body) as { alerts: NotifiedAlert[] }).alerts);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/`;

  const config = parse(readFileSync(`${repo}monitoring/alertmanager.yml`, 'utf8')) as {
    route: Route;
    receivers: { name: string; webhook_configs?: unknown[] }[];
  };
  const shorten = (route: Route) => {
    for (const key of ['group_wait', 'group_interval'] as const) if (route[key] !== undefined) route[key] = '1s';
    for (const child of route.routes ?? []) shorten(child);
  };
  shorten(config.route);
  for (const receiver of config.receivers) receiver.webhook_configs = [{ url: webhookUrl, send_resolved: true }];

  const dir = mkdtempSync(join(tmpdir(), 'alertmanager-'));
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));
  const port = await freePort();
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', // a single instance: no gossip port
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  await waitForHttpOk(`http://127.0.0.1:${port}/-/ready`, 'Alertmanager to be ready');

  return {
    port,
    notified,
    waitForNotification: (alertname, status, { since, timeoutMs }) =>
      waitFor(
        () => notified.slice(since).find((alert) => alert.labels.alertname === alertname && alert.status === status),
        (alert) => alert !== undefined,
        { what: `${alertname} ${status} at the webhook`, timeoutMs },
      ) as Promise<NotifiedAlert>,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await new Promise((resolve) => webhook.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
