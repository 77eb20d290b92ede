#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --save]`: the pipeline's speed on this machine, on a real Kafka broker (started
// here on its own port) and the PostgreSQL of DATABASE_URL, with the daemons as users run them.
//
// Phases, each on its own topic and consumer group, all rows in one table:
//   producer  `producer --rate 0 --count N` fills a backlog                         → producer_eps
//             and the same with the original's random events (SIM_USERS=0)        → producer_random_eps
//   catch-up  a consumer drains that backlog, nothing else running                  → catchup_eps, RSS
//   sustained producer (as fast as it can) and consumer together                    → sustained_eps
//   latency   producer at 5,000 events/s, then at the default pace (2 events/s)     → p50_ms, p99_ms
//             and p99 without the first 5 s, while the consumer settles           → steady_p99_ms
//   baseline  the original system's loader: one connection and one INSERT a message → baseline_eps
//   ceiling   PostgreSQL's server-side COPY of the catch-up rows into a copy of the table → copy_ceiling_eps
// Every phase checks that each event is stored exactly once. The run ends with a table, one JSON line,
// and bench-results/ (results.json, the daemons' logs, throughput.svg and latency.svg); --save also
// copies the results and charts into docs/benchmarks/, which docs/benchmarks.md shows.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { DAEMON_NODE_FLAGS } from './daemon-flags.mjs';
import { kafkaVersion } from './kafka-version.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const save = process.argv.includes('--save');
const SIZES = quick
  ? { backlog: 200_000, random: 100_000, sustained: 200_000, latencySeconds: 10, idleSeconds: 10, baselineSeconds: 5 }
  : { backlog: 1_000_000, random: 500_000, sustained: 1_000_000, latencySeconds: 30, idleSeconds: 20, baselineSeconds: 15 };
const KAFKA_PORT = Number(process.env.BENCH_KAFKA_PORT ?? 26092);
const PORTS = { consumer: 26464, producer: 26465 };
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const benchDatabase = 'user_actions_bench';
const databaseUrl = withDatabase(adminUrl, benchDatabase);
const outDir = join(repo, 'bench-results');
const SAMPLE_MS = 250;
const WARM_UP_SECONDS = 5;

/** @typedef {{ le: number, count: number }} Bucket */
/** @typedef {{ at: number, value: number, rss: number }} Sample */

/** Every sample of every phase, for the throughput chart: seconds since the run began, events/s. */
/** @type {{ seconds: number, rate: number, series: string }[]} */
const timeline = [];
const runStartedAt = performance.now();

/** @param {string} url @param {string} database */
function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** @param {string} line */
function say(line) {
  process.stdout.write(`${line}\n`);
}

/** @param {'start' | 'stop'} command @param {string} stateDir */
function kafkaScript(command, stateDir) {
  const result = spawnSync('bash', [join(repo, 'scripts/kafka.sh'), command], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT), KAFKA_STATE_DIR: stateDir, KAFKA_HEAP: '1g' },
  });
  if (result.status !== 0) throw new Error(`scripts/kafka.sh ${command} failed`);
}

/** @param {string} topic @param {string} groupId */
function baseEnv(topic, groupId) {
  return {
    ...process.env,
    KAFKA_BROKERS: `127.0.0.1:${KAFKA_PORT}`,
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    LOG_SUMMARY_INTERVAL_MS: '5000',
  };
}

/** A daemon as users run it, its output in bench-results/<log>.log. */
/**
 * @param {'producer' | 'consumer'} name @param {NodeJS.ProcessEnv} env @param {string[]} args @param {string} log
 */
function startDaemon(name, env, args, log) {
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS[name], join(repo, name, 'dist/main.js'), ...args], {
    env: { ...env, METRICS_PORT: String(PORTS[name]) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const file = createWriteStream(join(outDir, `${log}.log`));
  child.stdout.pipe(file);
  child.stderr.pipe(file);
  /** @type {Promise<number>} */
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return {
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`${name} (${log}) exited with ${code}; see bench-results/${log}.log`);
    },
  };
}

/** A daemon's Prometheus metrics, each series' value summed over its labels. */
/** @param {number} port */
async function scrape(port) {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  /** @type {Map<string, number>} */
  const metrics = new Map();
  /** @type {Bucket[]} */
  const buckets = [];
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-z_:]+)(\{[^}]*\})? ([-+0-9.eE]+|NaN)$/i.exec(line);
    if (!match) continue;
    const [, name = '', labels = '', value = '0'] = match;
    metrics.set(name, (metrics.get(name) ?? 0) + Number(value));
    if (name === 'user_actions_event_delay_seconds_bucket') {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      buckets.push({ le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), count: Number(value) });
    }
  }
  return { get: (/** @type {string} */ name) => metrics.get(name) ?? 0, buckets };
}

/** @param {number} port */
async function scrapeWhenUp(port, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await scrape(port);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

/** @param {number} port */
async function waitReady(port) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await sleep(100);
  }
  throw new Error(`the daemon on port ${port} did not become ready within 60 s`);
}

/**
 * Samples a counter until `done`, printing progress each second; returns the rate between the first
 * sample that moved and the sample that finished (start-up time excluded), and the samples.
 */
/**
 * @param {{ phase: string, port: number, metric: string, done: (value: number) => Promise<boolean>, extra?: (sample: Sample) => string }} options
 */
async function followCounter({ phase, port, metric, done, extra = () => '' }) {
  /** @type {Sample[]} */
  const samples = [];
  let last = { at: performance.now(), value: 0 };
  for (;;) {
    await sleep(SAMPLE_MS);
    let metrics;
    try {
      metrics = await scrape(port);
    } catch {
      if (await done(samples.at(-1)?.value ?? 0)) break; // the daemon finished and left
      continue;
    }
    const sample = { at: performance.now(), value: metrics.get(metric), rss: metrics.get('process_resident_memory_bytes') };
    samples.push(sample);
    // Progress and the chart use one-second windows: a 250 ms window mostly shows batch boundaries.
    if (sample.at - last.at >= 1000) {
      const rate = ((sample.value - last.value) * 1000) / (sample.at - last.at);
      timeline.push({ seconds: (sample.at - runStartedAt) / 1000, rate, series: phase });
      say(`  [${phase}] ${sample.value.toLocaleString('en')} events  ${Math.round(rate).toLocaleString('en')}/s${extra(sample)}`);
      last = sample;
    }
    if (await done(sample.value)) break;
  }
  const first = samples.find((sample) => sample.value > 0);
  const end = samples.at(-1);
  if (!first || !end || end === first) return { eps: 0, samples };
  // The first moving sample stands for up to one interval of work: count it from one interval earlier.
  const seconds = (end.at - first.at + SAMPLE_MS) / 1000;
  return { eps: end.value / seconds, samples };
}

/** @param {pg.Client} db @returns {Promise<{ rows: number, distinct_ids: number }>} */
async function countRows(db, table = 'useractions') {
  const { rows } = await db.query(`SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_ids FROM ${table}`);
  return rows[0];
}

/** @param {pg.Client} db @param {number} expected @param {string} phase */
async function expectRows(db, expected, phase) {
  const { rows, distinct_ids } = await countRows(db);
  if (rows !== expected || distinct_ids !== expected) {
    throw new Error(`${phase}: expected ${expected} rows, each event once; found ${rows} rows, ${distinct_ids} distinct events`);
  }
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the quantile. */
/** @param {number} quantile @param {Bucket[]} buckets */
export function histogramQuantile(quantile, buckets) {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = quantile * total;
  let previous = { le: 0, count: 0 };
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return previous.le;
      const inBucket = bucket.count - previous.count;
      return previous.le + (bucket.le - previous.le) * (inBucket === 0 ? 0 : (rank - previous.count) / inBucket);
    }
    previous = bucket;
  }
  return previous.le;
}

/**
 * The producer in load mode on `topic`: simulated users (the default), or with `random` the original
 * system's random events, to show what the simulation costs.
 */
async function producerPhase(/** @type {string} */ topic, /** @type {number} */ count, random = false) {
  const kind = random ? 'random events (SIM_USERS=0)' : 'simulated users';
  say(`producer: ${count.toLocaleString('en')} events of ${kind}, as fast as the broker acknowledges`);
  const env = { ...baseEnv(topic, 'unused'), ...(random ? { SIM_USERS: '0' } : {}) };
  const name = random ? 'producer-random' : 'producer';
  const producer = startDaemon('producer', env, ['--rate', '0', '--count', String(count)], name);
  let exited = false;
  producer.exited.then(() => {
    exited = true;
  });
  await scrapeWhenUp(PORTS.producer);
  const { eps } = await followCounter({
    phase: name,
    port: PORTS.producer,
    metric: 'user_actions_events_produced_total',
    // Its last count may never be scraped: it stops serving metrics as it exits.
    done: async (value) => value >= count || exited,
  });
  await producer.stop();
  return eps;
}

/** The consumer's stored-events rate until `total`, and its highest resident memory meanwhile. */
async function followStored(/** @type {string} */ phase, /** @type {number} */ total) {
  let maxRss = 0;
  const { eps } = await followCounter({
    phase,
    port: PORTS.consumer,
    metric: 'user_actions_events_stored_total',
    done: async (value) => value >= total,
    extra: (sample) => {
      maxRss = Math.max(maxRss, sample.rss);
      return `  RSS ${Math.round(sample.rss / 2 ** 20)} MB`;
    },
  });
  return { eps, rssMb: maxRss / 2 ** 20 };
}

/** @param {pg.Client} db */
async function catchUpPhase(db) {
  say(`catch-up: one consumer drains the backlog of ${SIZES.backlog.toLocaleString('en')} events`);
  const consumer = startDaemon('consumer', baseEnv('bench-backlog', 'bench-catchup'), [], 'consumer-catchup');
  await scrapeWhenUp(PORTS.consumer);
  const stored = await followStored('catch-up', SIZES.backlog);
  await consumer.stop();
  await expectRows(db, SIZES.backlog, 'catch-up');
  return stored;
}

/** @param {pg.Client} db @param {number} before */
async function sustainedPhase(db, before) {
  say(`sustained: producer (as fast as it can, ${SIZES.sustained.toLocaleString('en')} events) and consumer together`);
  const consumer = startDaemon('consumer', baseEnv('bench-live', 'bench-live'), [], 'consumer-sustained');
  await waitReady(PORTS.consumer);
  const producer = startDaemon(
    'producer',
    baseEnv('bench-live', 'unused'),
    ['--rate', '0', '--count', String(SIZES.sustained)],
    'producer-sustained',
  );
  const stored = await followStored('sustained', SIZES.sustained);
  await producer.stop();
  await consumer.stop();
  await expectRows(db, before + SIZES.sustained, 'sustained');
  return stored;
}

/** @param {pg.Client} db @param {number} before @param {number} rate @param {number} seconds @param {string} label */
async function latencyPhase(db, before, rate, seconds, label) {
  const count = Math.round(rate * seconds);
  say(`latency: ${count.toLocaleString('en')} events at ${rate.toLocaleString('en')} events/s (${label})`);
  const topic = `bench-latency-${rate}`;
  const consumer = startDaemon('consumer', baseEnv(topic, topic), [], `consumer-latency-${rate}`);
  await waitReady(PORTS.consumer);
  const producer = startDaemon(
    'producer',
    baseEnv(topic, 'unused'),
    ['--rate', String(rate), '--count', String(count)],
    `producer-latency-${rate}`,
  );
  // The histogram as it stood after the first seconds, so that the rest can be told apart from the
  // start, when the consumer's first fetches of the new topic are still settling.
  const warmUpEvents = Math.ceil(rate * WARM_UP_SECONDS);
  /** @type {Bucket[] | undefined} */
  let afterWarmUp;
  await followCounter({
    phase: `latency ${label}`,
    port: PORTS.consumer,
    metric: 'user_actions_events_stored_total',
    done: async (value) => {
      if (afterWarmUp === undefined && value >= warmUpEvents) afterWarmUp = (await scrape(PORTS.consumer)).buckets;
      return value >= count;
    },
  });
  const { buckets } = await scrape(PORTS.consumer);
  await producer.stop();
  await consumer.stop();
  await expectRows(db, before + count, `latency at ${rate}/s`);
  const steady = bucketsSince(buckets, afterWarmUp ?? []);
  return {
    count,
    buckets,
    p50Ms: histogramQuantile(0.5, buckets) * 1000,
    p99Ms: histogramQuantile(0.99, buckets) * 1000,
    steadyP99Ms: histogramQuantile(0.99, steady) * 1000,
  };
}

/** What a cumulative histogram counted between two scrapes. @param {Bucket[]} now @param {Bucket[]} then */
function bucketsSince(now, then) {
  const before = new Map(then.map((bucket) => [bucket.le, bucket.count]));
  return now.map((bucket) => ({ le: bucket.le, count: bucket.count - (before.get(bucket.le) ?? 0) }));
}

/** The original system's consumer, as it worked: a new connection and one INSERT for every message. */
/** @param {pg.Client} db */
async function baselinePhase(db) {
  say(`baseline: the original loader (one connection and one INSERT a message) for ${SIZES.baselineSeconds} s`);
  await db.query(`CREATE TABLE useractions_seed (
    id SERIAL PRIMARY KEY, userid UUID NOT NULL, action TEXT NOT NULL, ipaddress TEXT, device TEXT,
    timestamp TIMESTAMPTZ NOT NULL)`);
  const kafka = new Kafka({ clientId: 'bench-baseline', brokers: [`127.0.0.1:${KAFKA_PORT}`], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'bench-baseline' });
  await consumer.connect();
  await consumer.subscribe({ topics: ['bench-backlog'], fromBeginning: true });
  let stored = 0;
  let startedAt = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      startedAt ||= performance.now();
      const event = JSON.parse(String(message.value));
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(
        'INSERT INTO useractions_seed (userid, action, ipaddress, device, timestamp) VALUES ($1, $2, $3, $4, $5)',
        [event.UserId, event.Action, event.Metadata?.IpAddress, event.Metadata?.Device, event.Timestamp],
      );
      await client.end();
      stored += 1;
    },
  });
  while (!startedAt) await sleep(50);
  await sleep(SIZES.baselineSeconds * 1000);
  const eps = stored / ((performance.now() - startedAt) / 1000);
  await consumer.disconnect();
  say(`  [baseline] ${stored.toLocaleString('en')} events  ${Math.round(eps).toLocaleString('en')}/s`);
  return eps;
}

/** PostgreSQL's own bulk load of the catch-up rows into an empty table with the same columns and indexes. */
/** @param {pg.Client} db */
async function copyCeilingPhase(db) {
  say('ceiling: server-side COPY of the catch-up rows into an empty copy of the table');
  const dir = mkdtempSync(join(tmpdir(), 'user-actions-bench-'));
  chmodSync(dir, 0o777); // the server process writes and reads the file
  const file = join(dir, 'rows.copy');
  const columns = 'event_id, userid, action, ipaddress, device, timestamp';
  try {
    await db.query(`COPY (SELECT ${columns} FROM useractions ORDER BY id LIMIT ${SIZES.backlog}) TO '${file}'`);
    await db.query('CREATE TABLE useractions_copy (LIKE useractions INCLUDING ALL)');
    const startedAt = performance.now();
    await db.query(`COPY useractions_copy (${columns}) FROM '${file}'`);
    const eps = SIZES.backlog / ((performance.now() - startedAt) / 1000);
    say(`  [ceiling] ${SIZES.backlog.toLocaleString('en')} rows  ${Math.round(eps).toLocaleString('en')}/s`);
    return eps;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** @param {{ count: number, buckets: Bucket[] }} latency */
async function writeCharts(latency) {
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

function machine() {
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
function printTable(results) {
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

async function main() {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  spawnSync('npx', ['tsc', '-b'], { cwd: repo, stdio: 'inherit' });
  const stateDir = mkdtempSync(join(tmpdir(), 'user-actions-bench-kafka-'));
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${benchDatabase}`);
  await admin.query(`CREATE DATABASE ${benchDatabase}`);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  kafkaScript('start', stateDir);
  try {
    const producer_eps = await producerPhase('bench-backlog', SIZES.backlog);
    const producer_random_eps = await producerPhase('bench-random', SIZES.random, true);
    const catchUp = await catchUpPhase(db);
    const sustained = await sustainedPhase(db, SIZES.backlog);
    let stored = SIZES.backlog + SIZES.sustained;
    const busy = await latencyPhase(db, stored, 5_000, SIZES.latencySeconds, '5,000/s');
    stored += busy.count;
    const idle = await latencyPhase(db, stored, 2, SIZES.idleSeconds, 'default pace');
    const baseline_eps = await baselinePhase(db);
    const copy_ceiling_eps = await copyCeilingPhase(db);
    const results = {
      sustained_eps: Math.round(sustained.eps),
      catchup_eps: Math.round(catchUp.eps),
      p50_ms: Number(busy.p50Ms.toFixed(1)),
      p99_ms: Number(busy.p99Ms.toFixed(1)),
      steady_p99_ms: Number(busy.steadyP99Ms.toFixed(1)),
      idle_p50_ms: Number(idle.p50Ms.toFixed(1)),
      idle_p99_ms: Number(idle.p99Ms.toFixed(1)),
      consumer_rss_mb: Math.round(Math.max(catchUp.rssMb, sustained.rssMb)),
      producer_eps: Math.round(producer_eps),
      producer_random_eps: Math.round(producer_random_eps),
      baseline_eps: Math.round(baseline_eps),
      copy_ceiling_eps: Math.round(copy_ceiling_eps),
      catchup_vs_copy_ceiling: Number((catchUp.eps / copy_ceiling_eps).toFixed(3)),
      sustained_vs_baseline: Number((sustained.eps / baseline_eps).toFixed(1)),
      backlog_events: SIZES.backlog,
      sustained_events: SIZES.sustained,
      quick,
    };
    writeFileSync(join(outDir, 'results.json'), `${JSON.stringify({ machine: machine(), results, timeline }, null, 2)}\n`);
    await writeCharts(busy);
    if (save) {
      const docs = join(repo, 'docs', 'benchmarks');
      mkdirSync(docs, { recursive: true });
      for (const file of ['results.json', 'throughput.svg', 'latency.svg']) copyFileSync(join(outDir, file), join(docs, file));
    }
    printTable(results);
    say(JSON.stringify(results));
  } finally {
    await db.end();
    await admin.end();
    kafkaScript('stop', stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
