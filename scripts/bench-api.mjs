#!/usr/bin/env node
// `npm run bench:api [-- --quick] [-- --save]`: the read API's speed on this machine, over a table of
// 10,000,000 events (--quick: 1,000,000) across 30 daily partitions, while a consumer stores 5,000 events/s
// from a real Kafka broker, with the daemons as users run them and autocannon as the HTTP load.
//
//   pages     a page of 100 in a random hour, 16 clients                          → page_rps, page_p99_ms, page_cpu_ms
//   counts    events per minute and action over a random day, 2 clients           → counts_rps, counts_p99_ms, counts_cpu_ms
//   live      the live page's query, a tick every 250 ms                          → live_query_p99_ms
//             the three first with the API alone on the machine, then during the ingestion → alone_*
//   export    1,000,000 events (--quick: 100,000) as CSV and NDJSON, a fresh API each → *_rows_per_s, *_peak_mb
//             and the original's way: every row in memory before the first byte   → original_rows_per_s, original_peak_mb
//   consumer  its stored events/s with no API load, then during the pages' load   → consumer_eps_*
// Prints a table and one JSON line; writes bench-results/api-results.json (--save: docs/benchmarks/ too);
// --keep keeps the filled table for the next run (which then reuses it; its own firstDay must match: same day).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  consumerRate,
  DAY_MS,
  DAYS,
  database,
  databaseUrl,
  exportThroughApi,
  fillTable,
  firstDay,
  iso,
  keep,
  liveQuery,
  load,
  quick,
  randomRange,
  SIZE,
  save,
  startApi,
  TARGETS,
  TOPIC,
} from './bench/api-phases.mjs';
import { say, waitReady } from './bench/observe.mjs';
import { baseEnv, kafkaScript, startDaemon } from './bench/phases.mjs';
import { machine } from './bench/report.mjs';
import { adminUrl, outDir, PORTS, repo } from './bench/settings.mjs';

async function main() {
  mkdirSync(outDir, { recursive: true });
  spawnSync('npx', ['tsc', '-b'], { cwd: repo, stdio: 'inherit' });
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await prepareTable(admin);
  // The API alone first (nothing else runs): what it costs, before the ingestion shares the cores.
  const alone = await readPhases('alone');
  const stateDir = mkdtempSync(join(tmpdir(), 'user-actions-bench-api-kafka-'));
  kafkaScript('start', stateDir);
  const env = { ...baseEnv(TOPIC, 'bench-api-loader'), DATABASE_URL: databaseUrl };
  const consumer = startDaemon('consumer', env, [], 'api-consumer');
  await waitReady(PORTS.consumer);
  const producer = startDaemon('producer', env, ['--rate', '5000'], 'api-producer');
  try {
    await sleep(5_000);
    say(`consumer at 5,000 events/s, no API load, ${SIZE.seconds} s`);
    const consumerAlone = await consumerRate(SIZE.seconds);
    say(`  ${Math.round(consumerAlone).toLocaleString('en')} events/s stored`);
    const [{ pages, counts, live }, consumerLoaded] = await Promise.all([
      readPhases('load'),
      sleep(1_000).then(() => consumerRate(SIZE.seconds)),
    ]);
    say(`  consumer during the pages: ${Math.round(consumerLoaded).toLocaleString('en')} events/s stored`);
    const { csv, ndjson, original } = await exportPhase();
    const results = resultsOf({ alone, pages, counts, live, csv, ndjson, original, consumerAlone, consumerLoaded });
    writeFileSync(join(outDir, 'api-results.json'), `${JSON.stringify({ machine: machine(), results }, null, 2)}\n`);
    if (save) copyFileSync(join(outDir, 'api-results.json'), join(repo, 'docs', 'benchmarks', 'api-results.json'));
    printResults(results);
  } finally {
    await producer.stop().catch(() => undefined);
    await consumer.stop().catch(() => undefined);
    kafkaScript('stop', stateDir);
    rmSync(stateDir, { recursive: true, force: true });
    if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

/**
 * The table of events: made and filled, or the one kept by the previous run with --keep.
 * @param {import('pg').Client} admin
 */
async function prepareTable(admin) {
  const kept = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
  if (!keep || !kept) {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${database}`);
    await fillTable();
  }
  if (keep && kept) {
    // The kept table's offsets are a previous broker's: this run's topic starts empty.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query('DELETE FROM useractions_offsets').catch(() => undefined);
    await db.end();
  }
}

/** A range of SIZE.exportRows events exported as CSV and NDJSON, and read the original's way. */
async function exportPhase() {
  const exportDays = (SIZE.exportRows / SIZE.rows) * DAYS;
  const exportStart = firstDay + DAY_MS;
  const exportEnd = exportStart + exportDays * DAY_MS - 1;
  const range = `startTimeStamp=${iso(exportStart)}&endTimeStamp=${iso(exportEnd)}`;
  say(`export: ${SIZE.exportRows.toLocaleString('en')} events, each way by a fresh process`);
  const csv = await exportThroughApi('csv', range);
  const ndjson = await exportThroughApi('ndjson', range);
  const original = JSON.parse(
    execFileSync(
      process.execPath,
      [join(repo, 'scripts/bench/original-read.mjs'), databaseUrl, iso(exportStart), iso(exportEnd)],
      {
        encoding: 'utf8',
      },
    ),
  );
  say(
    `  the original's way: ${Math.round(original.rows / original.seconds).toLocaleString('en')} rows/s, peak ${original.peakRssMb.toFixed(0)} MB`,
  );
  return { csv, ndjson, original };
}

/**
 * The summary line's figures.
 * @param {Awaited<ReturnType<typeof readPhases>> & Awaited<ReturnType<typeof exportPhase>> & {
 *   alone: Awaited<ReturnType<typeof readPhases>>, consumerAlone: number, consumerLoaded: number }} figures
 */
function resultsOf({ alone, pages, counts, live, csv, ndjson, original, consumerAlone, consumerLoaded }) {
  return {
    rows: SIZE.rows,
    alone_page_rps: Math.round(alone.pages.rps),
    alone_page_p99_ms: alone.pages.p99,
    alone_page_cpu_ms: Number(alone.pages.cpuMs.toFixed(2)),
    alone_counts_p99_ms: alone.counts.p99,
    alone_counts_cpu_ms: Number(alone.counts.cpuMs.toFixed(2)),
    alone_live_query_p99_ms: Math.round(alone.live.p99),
    page_rps: Math.round(pages.rps),
    page_p99_ms: pages.p99,
    page_cpu_ms: Number(pages.cpuMs.toFixed(2)),
    counts_rps: Number(counts.rps.toFixed(1)),
    counts_p99_ms: counts.p99,
    counts_cpu_ms: Number(counts.cpuMs.toFixed(2)),
    live_query_p99_ms: Math.round(live.p99),
    export_rows: csv.rows,
    csv_rows_per_s: Math.round(csv.rowsPerSecond),
    csv_peak_mb: Math.round(csv.peakMb),
    ndjson_rows_per_s: Math.round(ndjson.rowsPerSecond),
    ndjson_peak_mb: Math.round(ndjson.peakMb),
    original_rows_per_s: Math.round(original.rows / original.seconds),
    original_peak_mb: Math.round(original.peakRssMb),
    consumer_eps_without_api: Math.round(consumerAlone),
    consumer_eps_with_api: Math.round(consumerLoaded),
    consumer_with_api_vs_without: Number((consumerLoaded / consumerAlone).toFixed(3)),
    quick,
  };
}

/**
 * A figure a line, with its target, then the JSON line.
 * @param {ReturnType<typeof resultsOf>} results
 */
function printResults(results) {
  say('');
  for (const [figure, value] of Object.entries(results))
    say(`${figure.padEnd(30)} ${String(value).padStart(12)}  ${TARGETS[figure] ?? ''}`);
  say('');
  say(JSON.stringify(results));
}

/**
 * Pages, counts and the live page's query through a fresh API; the consumer's rate is read during the
 * pages' load by the caller.
 * @param {string} when
 */
async function readPhases(when) {
  say(`the API, ${when === 'alone' ? 'alone on the machine' : 'while the consumer stores 5,000 events/s'}`);
  const api = await startApi(`api-${when}`);
  try {
    const pages = await load(
      'pages of 100 in a random hour',
      16,
      () => `/api/user/actions?limit=100&${randomRange(3_600_000)}`,
      api.pid,
    );
    const counts = await load(
      'counts per minute over a random day',
      2,
      () => `/api/user/actions/counts?bucket=minute&${randomRange(DAY_MS)}`,
      api.pid,
    );
    const live = await liveQuery();
    return { pages, counts, live };
  } finally {
    await api.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:api: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
