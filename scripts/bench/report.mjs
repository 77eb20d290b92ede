// What the run leaves: the machine it ran on, the table it prints, and its charts.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { kafkaVersion } from '../kafka-version.mjs';
import { say, timeline } from './observe.mjs';
import { adminUrl, outDir } from './settings.mjs';

/** @typedef {import('./observe.mjs').Bucket} Bucket */

/** @param {{ count: number, buckets: Bucket[] }} latency */
export async function writeCharts(latency) {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  /** @param {import('vega-lite').TopLevelSpec} spec @param {string} name */
  const render = async (spec, name) => {
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
    writeFileSync(join(outDir, name), await view.toSVG());
  };
  await render(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: 'Events per second during the benchmark',
      width: 720,
      height: 260,
      data: { values: timeline },
      mark: { type: 'line', interpolate: 'monotone' },
      encoding: {
        x: { field: 'seconds', type: 'quantitative', title: 'seconds since the start of the run' },
        y: { field: 'rate', type: 'quantitative', title: 'events/s' },
        color: { field: 'series', type: 'nominal', title: 'phase', legend: { labelLimit: 240 } },
      },
    },
    'throughput.svg',
  );
  let previous = 0;
  const shares = latency.buckets
    .filter((bucket) => Number.isFinite(bucket.le) && bucket.le <= 1)
    .sort((a, b) => a.le - b.le)
    .map((bucket) => {
      const share = (bucket.count - previous) / (latency.buckets.at(-1)?.count || 1);
      previous = bucket.count;
      return { bucket: `≤ ${bucket.le * 1000} ms`, order: bucket.le, share };
    });
  await render(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `From event Timestamp to committed row at 5,000 events/s (${latency.count.toLocaleString('en')} events)`,
      width: 720,
      height: 220,
      data: { values: shares },
      mark: 'bar',
      encoding: {
        x: { field: 'bucket', type: 'ordinal', sort: { field: 'order' }, title: 'latency bucket' },
        y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'events' },
      },
    },
    'latency.svg',
  );
}

export function machine() {
  const pgVersion = spawnSync('psql', [adminUrl, '-tAc', 'SHOW server_version'], { encoding: 'utf8' }).stdout.trim();
  return {
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    kafka: `${kafkaVersion()} (single KRaft node, scripts/kafka.sh)`,
  };
}

/** @param {Record<string, number | boolean>} results */
export function printTable(results) {
  const rows = [
    ['producer (load mode)', results.producer_eps, 'events/s', '≥ 150,000'],
    ['producer, random events (no simulation)', results.producer_random_eps, 'events/s', ''],
    ['catch-up of the backlog', results.catchup_eps, 'events/s', '≥ 100,000'],
    ['sustained, producer running', results.sustained_eps, 'events/s', '≥ 60,000'],
    ['latency p50 at 5,000/s', results.p50_ms, 'ms', ''],
    ['latency p99 at 5,000/s', results.p99_ms, 'ms', '≤ 250'],
    ['latency p99 at 5,000/s after the first 5 s', results.steady_p99_ms, 'ms', ''],
    ['latency p99 at 2/s (default pace)', results.idle_p99_ms, 'ms', '≤ 100'],
    ['consumer RSS, maximum', results.consumer_rss_mb, 'MB', '≤ 250'],
    ['baseline (original loader)', results.baseline_eps, 'events/s', ''],
    ['PostgreSQL COPY ceiling', results.copy_ceiling_eps, 'events/s', ''],
    ['catch-up / COPY ceiling', results.catchup_vs_copy_ceiling, '', ''],
    ['sustained / baseline', results.sustained_vs_baseline, '', ''],
  ];
  say('');
  for (const [what = '', value = 0, unit = '', target = ''] of /** @type {[string, number, string, string][]} */ (rows)) {
    const shown = value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en');
    say(`${what.padEnd(40)} ${shown.padStart(10)} ${unit.padEnd(9)} ${target}`);
  }
  say('');
}
