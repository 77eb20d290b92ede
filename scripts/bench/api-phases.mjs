// The read benchmark's sizes, its table and its phases (`npm run bench:api`, scripts/bench-api.mjs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { say, scrape, waitReady } from './observe.mjs';
import { baseEnv, startDaemon } from './phases.mjs';
import { adminUrl, PORTS, repo } from './settings.mjs';

export const quick = process.argv.includes('--quick');
export const save = process.argv.includes('--save');
// Keeps the filled database for the next run, which then skips the filling.
export const keep = process.argv.includes('--keep');
export const SIZE = quick
  ? { rows: 1_000_000, exportRows: 100_000, seconds: 8 }
  : { rows: 10_000_000, exportRows: 1_000_000, seconds: 20 };
export const DAYS = 30;
export const DAY_MS = 86_400_000;
export const TOKEN = 'bench-token-0123456789abcdef';
export const database = 'user_actions_bench_api';
export const databaseUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
})();
export const API = `http://127.0.0.1:${PORTS.api}`;
export const TOPIC = 'bench-api-live';

/** The targets (docs/benchmarks.md), by figure. */
/** @type {Record<string, string>} */
export const TARGETS = {
  page_p99_ms: '≤ 50',
  alone_page_p99_ms: '≤ 50',
  alone_counts_p99_ms: '≤ 250',
  alone_live_query_p99_ms: '≤ 250',
  counts_p99_ms: '≤ 250',
  live_query_p99_ms: '≤ 250',
  csv_rows_per_s: '≥ 100,000',
  ndjson_rows_per_s: '≥ 100,000',
  csv_peak_mb: '≤ 150',
  ndjson_peak_mb: '≤ 150',
  consumer_with_api_vs_without: '≥ 0.90',
};

/** The first stored day, midnight UTC, 31 days ago: the table spans 30 whole days before today. */
export const firstDay = Math.floor(Date.now() / DAY_MS) * DAY_MS - (DAYS + 1) * DAY_MS;
export const iso = (/** @type {number} */ ms) => new Date(ms).toISOString();

export async function fillTable() {
  const [{ createPool }, { migrate }, { sqlFor, DEFAULT_TABLE }, { createLogger }, { loadConsumerConfig }] = await Promise.all([
    import(join(repo, 'consumer/dist/connecting/pool.js')),
    import(join(repo, 'consumer/dist/schema/migration.js')),
    import(join(repo, 'consumer/dist/sql/sql.js')),
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
    // Written around the consumer: its tallies are counted once, as for a table it adopts.
    for (const statement of sqlFor(DEFAULT_TABLE).tallies.recount) await db.query(statement);
    await db.query('ANALYZE useractions');
    say(`  filled in ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  } finally {
    await db.end();
  }
}

/** Stored events per second over `seconds`, from the consumer's own counter. */
/** @param {number} seconds */
export async function consumerRate(seconds) {
  const before = (await scrape(PORTS.consumer)).get('user_actions_events_stored_total');
  const startedAt = performance.now();
  await sleep(seconds * 1000);
  const after = (await scrape(PORTS.consumer)).get('user_actions_events_stored_total');
  return (after - before) / ((performance.now() - startedAt) / 1000);
}

/** A random whole `spanMs` inside the stored days, as the API's bounds. */
/** @param {number} spanMs */
export function randomRange(spanMs) {
  const start = firstDay + Math.floor((Math.random() * (DAYS * DAY_MS - spanMs)) / 60_000) * 60_000;
  return `startTimeStamp=${iso(start)}&endTimeStamp=${iso(start + spanMs - 1)}`;
}

/** CPU seconds a process has used so far (user and system), from the kernel. */
const cpuSeconds = (/** @type {number} */ pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime, the 14th and 15th fields of the line, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/**
 * @param {string} what @param {number} connections @param {() => string} path
 * @param {number} apiPid the API's process, whose CPU time per request is measured
 */
export async function load(what, connections, path, apiPid) {
  say(`${what}: ${connections} clients for ${SIZE.seconds} s`);
  const cpuBefore = cpuSeconds(apiPid);
  const result = await autocannon({
    url: API,
    connections,
    duration: SIZE.seconds,
    headers: { authorization: `Bearer ${TOKEN}` },
    requests: [{ setupRequest: (/** @type {any} */ request) => ({ ...request, path: path() }) }],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${what}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  const cpuMs = ((cpuSeconds(apiPid) - cpuBefore) * 1000) / result.requests.total;
  say(
    `  ${Math.round(result.requests.average).toLocaleString('en')} requests/s, p99 ${result.latency.p99} ms, API CPU ${cpuMs.toFixed(2)} ms a request`,
  );
  return { rps: result.requests.average, p99: result.latency.p99, cpuMs };
}

/** The live page's query, one tick every 250 ms: its p99 over 40 ticks. */
export async function liveQuery() {
  const { readSqlFor } = await import(join(repo, 'api/dist/reading/read-sql.js'));
  const { LIVE_PARAMETERS } = await import(join(repo, 'api/dist/live/live-feed.js'));
  const sql = readSqlFor({ name: 'useractions' });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const took = [];
  for (let run = 0; run < 40; run++) {
    const startedAt = performance.now();
    await db.query({ name: 'live', text: sql.live, values: LIVE_PARAMETERS });
    took.push(performance.now() - startedAt);
    await sleep(250);
  }
  await db.end();
  took.sort((a, b) => a - b);
  const p99 = took[Math.ceil(took.length * 0.99) - 1] ?? 0;
  say(`live page's query: p99 ${p99.toFixed(0)} ms over ${took.length} ticks, median ${took[20]?.toFixed(0)} ms`);
  return { p99 };
}

/** The peak resident memory of a process so far, from the kernel. */
export const peakMb = (/** @type {number} */ pid) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** @param {string} log */
export async function startApi(log) {
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
export async function exportThroughApi(format, range) {
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
