#!/usr/bin/env node
// `npm run bench:api [-- --quick] [-- --save]`: the read API's speed on this machine, over a table of
// 10,000,000 events (--quick: 1,000,000) across 30 daily partitions, while a consumer stores 5,000 events/s
// from a real Kafka broker, with the daemons as users run them and autocannon as the HTTP load.
//
//   pages     a page of 100 in a random hour, 16 clients                          → page_rps, page_p99_ms
//   counts    events per minute and action over a random day, 2 clients           → counts_rps, counts_p99_ms
//   live      the live page's query: its first tick (the last hour), then each tick → live_first_tick_ms, live_query_p99_ms
//   export    1,000,000 events (--quick: 100,000) as CSV and NDJSON, a fresh API each → *_rows_per_s, *_peak_mb
//             and the original's way: every row in memory before the first byte   → original_rows_per_s, original_peak_mb
//   consumer  its stored events/s with no API load, then during the pages' load   → consumer_eps_*
// Prints a table and one JSON line; writes bench-results/api-results.json (--save: docs/benchmarks/ too);
// --keep keeps the filled table for the next run (which then reuses it; its own firstDay must match: same day).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { say, scrape, waitReady } from './bench/observe.mjs';
import { baseEnv, kafkaScript, startDaemon } from './bench/phases.mjs';
import { machine } from './bench/report.mjs';
import { adminUrl, outDir, PORTS, repo } from './bench/settings.mjs';

const quick = process.argv.includes('--quick');
const save = process.argv.includes('--save');
// Keeps the filled database for the next run, which then skips the filling.
const keep = process.argv.includes('--keep');
const SIZE = quick
  ? { rows: 1_000_000, exportRows: 100_000, seconds: 8 }
  : { rows: 10_000_000, exportRows: 1_000_000, seconds: 20 };
const DAYS = 30;
const DAY_MS = 86_400_000;
const TOKEN = 'bench-token-0123456789abcdef';
const database = 'user_actions_bench_api';
const databaseUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
})();
const API = `http://127.0.0.1:${PORTS.api}`;
const TOPIC = 'bench-api-live';

/** The targets (docs/benchmarks.md), by figure. */
/** @type {Record<string, string>} */
const TARGETS = {
  page_p99_ms: '≤ 50',
  counts_p99_ms: '≤ 250',
  live_query_p99_ms: '≤ 250',
  csv_rows_per_s: '≥ 100,000',
  ndjson_rows_per_s: '≥ 100,000',
  csv_peak_mb: '≤ 150',
  ndjson_peak_mb: '≤ 150',
  consumer_with_api_vs_without: '≥ 0.90',
};

/** The first stored day, midnight UTC, 31 days ago: the table spans 30 whole days before today. */
const firstDay = Math.floor(Date.now() / DAY_MS) * DAY_MS - (DAYS + 1) * DAY_MS;
const iso = (/** @type {number} */ ms) => new Date(ms).toISOString();

async function fillTable() {
  const [{ createPool }, { migrate }, { sqlFor, DEFAULT_TABLE }, { createLogger }, { loadConsumerConfig }] = await Promise.all([
    import(join(repo, 'consumer/dist/storing/db.js')),
    import(join(repo, 'consumer/dist/storing/migration.js')),
    import(join(repo, 'consumer/dist/storing/sql.js')),
    import(join(repo, 'shared/dist/logger.js')),
    import(join(repo, 'consumer/dist/config.js')),
  ]);
  const pool = createPool(databaseUrl, createLogger({ name: 'bench', level: 'silent' }));
  const policy = loadConsumerConfig({}).partitions;
  try {
    // Made as if the consumer had run since the first day: one partition a day from then to now.
    await migrate(pool, sqlFor(DEFAULT_TABLE), policy, new Date(firstDay));
    await migrate(pool, sqlFor(DEFAULT_TABLE), policy, new Date());
  } finally {
    await pool.end();
  }
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const partitions = (await db.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'useractions'::regclass`))
      .rows[0].n;
    say(`filling: ${SIZE.rows.toLocaleString('en')} events over ${DAYS} days, ${partitions} partitions`);
    const startedAt = performance.now();
    const CHUNK = 1_000_000;
    for (let from = 0; from < SIZE.rows; from += CHUNK) {
      await db.query(
        `INSERT INTO useractions (event_id, userid, action, ipaddress, device, "timestamp", metadata)
         SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad((i % 10000)::text, 12, '0'))::uuid,
                (ARRAY['Login','Logout','PageView','Search','Purchase','AddToCart','RemoveFromCart','ProfileUpdate',
                       'FollowUser','UnfollowUser','Like','Unlike','Comment','DeleteComment','SubscriptionStart',
                       'SubscriptionCancel'])[1 + (i * 7) % 16],
                '10.' || (i % 250) || '.' || (i % 199) || '.' || (i % 97), 'Chrome on Windows',
                $1::timestamptz + (i::float8 / $2) * interval '${DAYS} days',
                jsonb_build_object('Browser', 'Chrome', 'IpAddress', '10.0.0.1', 'Device', 'Chrome on Windows')
         FROM generate_series($3::bigint, $4::bigint) AS i`,
        [iso(firstDay), SIZE.rows, from, Math.min(from + CHUNK, SIZE.rows) - 1],
      );
      say(`  ${Math.min(from + CHUNK, SIZE.rows).toLocaleString('en')} rows`);
    }
    await db.query('ANALYZE useractions');
    say(`  filled in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  } finally {
    await db.end();
  }
}

/** Stored events per second over `seconds`, from the consumer's own counter. */
/** @param {number} seconds */
async function consumerRate(seconds) {
  const before = (await scrape(PORTS.consumer)).get('user_actions_events_stored_total');
  const startedAt = performance.now();
  await sleep(seconds * 1000);
  const after = (await scrape(PORTS.consumer)).get('user_actions_events_stored_total');
  return (after - before) / ((performance.now() - startedAt) / 1000);
}

/** A random whole `spanMs` inside the stored days, as the API's bounds. */
/** @param {number} spanMs */
function randomRange(spanMs) {
  const start = firstDay + Math.floor((Math.random() * (DAYS * DAY_MS - spanMs)) / 60_000) * 60_000;
  return `startTimeStamp=${iso(start)}&endTimeStamp=${iso(start + spanMs - 1)}`;
}

/** @param {string} what @param {number} connections @param {() => string} path */
async function load(what, connections, path) {
  say(`${what}: ${connections} clients for ${SIZE.seconds} s`);
  const result = await autocannon({
    url: API,
    connections,
    duration: SIZE.seconds,
    headers: { authorization: `Bearer ${TOKEN}` },
    requests: [{ setupRequest: (/** @type {any} */ request) => ({ ...request, path: path() }) }],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${what}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  say(`  ${Math.round(result.requests.average).toLocaleString('en')} requests/s, p99 ${result.latency.p99} ms`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** The live page's query: its first tick (the whole last hour), then the p99 of the ticks after it. */
async function liveQuery() {
  const { readSqlFor } = await import(join(repo, 'api/dist/reading/read-sql.js'));
  const { LIVE_WINDOW } = await import(join(repo, 'api/dist/live/live-feed.js'));
  const sql = readSqlFor({ name: 'useractions' });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  /** @param {number} window */
  const timed = async (window) => {
    const startedAt = performance.now();
    await db.query(sql.live, [window, LIVE_WINDOW.newest]);
    return performance.now() - startedAt;
  };
  const firstMs = await timed(LIVE_WINDOW.funnelSeconds);
  const took = [];
  for (let run = 0; run < 40; run++) {
    took.push(await timed(LIVE_WINDOW.rereadSeconds + 1));
    await sleep(250);
  }
  await db.end();
  took.sort((a, b) => a - b);
  const p99 = took[Math.ceil(took.length * 0.99) - 1] ?? 0;
  say(
    `live page's query: the first tick (the last hour) ${firstMs.toFixed(0)} ms, then p99 ${p99.toFixed(0)} ms over ${took.length} ticks`,
  );
  return { firstMs, p99 };
}

/** The peak resident memory of a process so far, from the kernel. */
const peakMb = (/** @type {number} */ pid) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** @param {string} log */
async function startApi(log) {
  const api = startDaemon(
    'api',
    {
      ...baseEnv(TOPIC, 'unused'),
      DATABASE_URL: databaseUrl,
      API_PORT: String(PORTS.api),
      API_TOKENS: TOKEN,
      API_RATE_LIMIT: '0',
      API_HOST: '127.0.0.1',
    },
    [],
    log,
  );
  await waitReady(PORTS.api);
  return api;
}

/** An export through a fresh API: rows per second to the last byte, and the API's peak memory. */
/** @param {'csv' | 'ndjson'} format @param {string} range */
async function exportThroughApi(format, range) {
  const api = await startApi(`api-export-${format}`);
  try {
    const startedAt = performance.now();
    const response = await fetch(`${API}/api/user/actions/export?format=${format}&${range}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    if (!response.ok) throw new Error(`export as ${format}: ${response.status} ${await response.text()}`);
    let lines = 0;
    for await (const chunk of response.body ?? []) for (const byte of chunk) if (byte === 10) lines += 1;
    const seconds = (performance.now() - startedAt) / 1000;
    // CSV: a header line, and none of these rows holds a line break.
    const rows = format === 'csv' ? lines - 1 : lines;
    const result = { rowsPerSecond: rows / seconds, peakMb: peakMb(api.pid), rows };
    say(
      `  ${format}: ${rows.toLocaleString('en')} rows, ${Math.round(result.rowsPerSecond).toLocaleString('en')} rows/s, API peak ${result.peakMb.toFixed(0)} MB`,
    );
    return result;
  } finally {
    await api.stop();
  }
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  spawnSync('npx', ['tsc', '-b'], { cwd: repo, stdio: 'inherit' });
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
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
  const stateDir = mkdtempSync(join(tmpdir(), 'user-actions-bench-api-kafka-'));
  kafkaScript('start', stateDir);
  const env = { ...baseEnv(TOPIC, 'bench-api-loader'), DATABASE_URL: databaseUrl };
  const consumer = startDaemon('consumer', env, [], 'api-consumer');
  await waitReady(PORTS.consumer);
  const producer = startDaemon('producer', env, ['--rate', '5000'], 'api-producer');
  let api;
  try {
    await sleep(5_000);
    say(`consumer at 5,000 events/s, no API load, ${SIZE.seconds} s`);
    const consumerAlone = await consumerRate(SIZE.seconds);
    say(`  ${Math.round(consumerAlone).toLocaleString('en')} events/s stored`);
    api = await startApi('api-load');
    const [pages, consumerLoaded] = await Promise.all([
      load('pages of 100 in a random hour', 16, () => `/api/user/actions?limit=100&${randomRange(3_600_000)}`),
      consumerRate(SIZE.seconds),
    ]);
    say(`  consumer meanwhile: ${Math.round(consumerLoaded).toLocaleString('en')} events/s stored`);
    const counts = await load(
      'counts per minute over a random day',
      2,
      () => `/api/user/actions/counts?bucket=minute&${randomRange(DAY_MS)}`,
    );
    const live = await liveQuery();
    await api.stop();
    api = undefined;

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

    const results = {
      rows: SIZE.rows,
      page_rps: Math.round(pages.rps),
      page_p99_ms: pages.p99,
      counts_rps: Number(counts.rps.toFixed(1)),
      counts_p99_ms: counts.p99,
      live_first_tick_ms: Math.round(live.firstMs),
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
    writeFileSync(join(outDir, 'api-results.json'), `${JSON.stringify({ machine: machine(), results }, null, 2)}\n`);
    if (save) copyFileSync(join(outDir, 'api-results.json'), join(repo, 'docs', 'benchmarks', 'api-results.json'));
    say('');
    for (const [figure, value] of Object.entries(results))
      say(`${figure.padEnd(30)} ${String(value).padStart(12)}  ${TARGETS[figure] ?? ''}`);
    say('');
    say(JSON.stringify(results));
  } finally {
    await api?.stop().catch(() => undefined);
    await producer.stop().catch(() => undefined);
    await consumer.stop().catch(() => undefined);
    kafkaScript('stop', stateDir);
    rmSync(stateDir, { recursive: true, force: true });
    if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

main().catch((error) => {
  process.stderr.write(`bench:api: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
