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

// What each figure is, in the order printed; the unit follows from the name (`_eps`, `_ms`, `_mb`).
const FIGURES = {
  producer_eps: 'producer (load mode)',
  producer_random_eps: 'producer, random events (no simulation)',
  catchup_eps: 'catch-up of the backlog',
  sustained_eps: 'sustained, producer running',
  p50_ms: 'latency p50 at 5,000/s',
  p99_ms: 'latency p99 at 5,000/s',
  steady_p99_ms: 'latency p99 at 5,000/s after the first 5 s',
  idle_p99_ms: 'latency p99 at 2/s (default pace)',
  consumer_rss_mb: 'consumer RSS, maximum',
  baseline_eps: 'baseline (original loader)',
  copy_ceiling_eps: 'PostgreSQL COPY ceiling',
  store_without_offsets_eps: 'store, offsets in Kafka only',
  store_with_offsets_eps: 'store, offsets in PostgreSQL',
  offsets_cost: 'cost of the offsets in PostgreSQL',
  store_without_time_index_eps: 'store, key (id, timestamp)',
  store_with_time_index_eps: 'store, key (timestamp, id)',
  time_index_cost: 'cost of a key that reads by time',
  store_without_tallies_eps: 'store, without tallies',
  store_with_tallies_eps: 'store, with tallies',
  tally_cost: 'cost of the tallies',
  catchup_plain_eps: 'catch-up into a plain table',
  sustained_plain_eps: 'sustained into a plain table',
  catchup_partitioned_vs_plain: 'catch-up, partitioned / plain',
  sustained_partitioned_vs_plain: 'sustained, partitioned / plain',
  catchup_vs_copy_ceiling: 'catch-up / COPY ceiling',
  sustained_vs_baseline: 'sustained / baseline',
  catchup_offset_reads: 'stored-offset reads during catch-up',
  sustained_offset_reads: 'stored-offset reads, sustained',
  idle_offset_reads: 'stored-offset reads at 2/s',
};

/** The targets (README and docs/benchmarks.md), by figure. */
/** @type {Record<string, string>} */
const TARGETS = {
  producer_eps: '≥ 150,000',
  catchup_eps: '≥ 100,000',
  sustained_eps: '≥ 60,000',
  p99_ms: '≤ 250',
  idle_p99_ms: '≤ 100',
  consumer_rss_mb: '≤ 250',
  offsets_cost: '< 0.05',
  // Catch-up and sustained at ≥ 0.90 of without it: both store through this same insert.
  time_index_cost: '≤ 0.11',
  tally_cost: '≤ 0.11',
  catchup_partitioned_vs_plain: '≥ 0.90',
  sustained_partitioned_vs_plain: '≥ 0.90',
};

/** @param {string} figure */
const unitOf = (figure) => ({ eps: 'events/s', ms: 'ms', mb: 'MB' })[figure.split('_').at(-1) ?? ''] ?? '';

/** @param {Record<string, number | boolean>} results */
export function printTable(results) {
  say('');
  for (const [figure, what] of Object.entries(FIGURES)) {
    const value = Number(results[figure]);
    const shown = value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString('en');
    const target = TARGETS[figure] ?? '';
    say(`${what.padEnd(40)} ${shown.padStart(10)} ${unitOf(figure).padEnd(9)} ${target}`);
  }
  say('');
}
