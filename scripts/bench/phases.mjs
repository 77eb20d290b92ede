// The benchmark's phases, each on its own topic and consumer group, each checking that every event was
// stored exactly once; the daemons run exactly as users run them.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { DAEMON_NODE_FLAGS } from '../daemon-flags.mjs';
import { bucketsSince, followCounter, histogramQuantile, say, scrape, scrapeWhenUp, waitReady } from './observe.mjs';
import { databaseUrl, KAFKA_PORT, outDir, PORTS, repo, SIZES, WARM_UP_SECONDS } from './settings.mjs';

/** @typedef {import('./observe.mjs').Bucket} Bucket */

/** @param {'start' | 'stop'} command @param {string} stateDir */
export function kafkaScript(command, stateDir) {
  const result = spawnSync('bash', [join(repo, 'scripts/kafka.sh'), command], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT), KAFKA_STATE_DIR: stateDir, KAFKA_HEAP: '1g' },
  });
  if (result.status !== 0) throw new Error(`scripts/kafka.sh ${command} failed`);
}

/** @param {string} topic @param {string} groupId */
export function baseEnv(topic, groupId) {
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
 * @param {'producer' | 'consumer' | 'api'} name @param {NodeJS.ProcessEnv} env @param {string[]} args @param {string} log
 */
export function startDaemon(name, env, args, log) {
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
    pid: child.pid ?? 0,
    exited,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`${name} (${log}) exited with ${code}; see bench-results/${log}.log`);
    },
  };
}

/** @param {pg.Client} db @returns {Promise<{ rows: number, distinct_ids: number }>} */
async function countRows(db, table = 'useractions') {
  const { rows } = await db.query(`SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_ids FROM ${table}`);
  return rows[0];
}

/** @param {pg.Client} db @param {number} expected @param {string} phase */
async function expectRows(db, expected, phase, table = 'useractions') {
  const { rows, distinct_ids } = await countRows(db, table);
  if (rows !== expected || distinct_ids !== expected) {
    throw new Error(`${phase}: expected ${expected} rows, each event once; found ${rows} rows, ${distinct_ids} distinct events`);
  }
}

/**
 * The producer in load mode on `topic`: simulated users (the default), or with `random` the original
 * system's random events, to show what the simulation costs.
 */
export async function producerPhase(/** @type {string} */ topic, /** @type {number} */ count, random = false) {
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

const OFFSET_READS = 'user_actions_stored_offset_reads_total';

/**
 * The consumer's stored-events rate until `total`, its highest resident memory meanwhile, and how often
 * it read its stored offsets outside a batch (at assignment, and for partitions idle for 2 s).
 */
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
  const offsetReads = (await scrape(PORTS.consumer)).get(OFFSET_READS);
  return { eps, rssMb: maxRss / 2 ** 20, offsetReads };
}

/**
 * The table the consumer fills: the default (partitioned by day), or with `plain` a table of the layout
 * before partitions, `useractions_plain`, which the same phases fill to compare the two in one run.
 */
const layouts = {
  partitioned: { table: 'useractions', suffix: '', env: {} },
  plain: {
    table: 'useractions_plain',
    suffix: '-plain',
    env: { DATABASE_TABLE: 'useractions_plain', DATABASE_PARTITION_INTERVAL: 'none' },
  },
};

/** @param {pg.Client} db @param {keyof typeof layouts} layout */
export async function catchUpPhase(db, layout = 'partitioned') {
  const { table, suffix, env } = layouts[layout];
  say(`catch-up${suffix}: one consumer drains the backlog of ${SIZES.backlog.toLocaleString('en')} events into ${table}`);
  const consumer = startDaemon(
    'consumer',
    { ...baseEnv('bench-backlog', `bench-catchup${suffix}`), ...env },
    [],
    `consumer-catchup${suffix}`,
  );
  await scrapeWhenUp(PORTS.consumer);
  const stored = await followStored(`catch-up${suffix}`, SIZES.backlog);
  await consumer.stop();
  await expectRows(db, SIZES.backlog, `catch-up${suffix}`, table);
  return stored;
}

/** @param {pg.Client} db @param {number} before @param {keyof typeof layouts} layout */
export async function sustainedPhase(db, before, layout = 'partitioned') {
  const { table, suffix, env } = layouts[layout];
  const topic = `bench-live${suffix}`;
  say(
    `sustained${suffix}: producer (as fast as it can, ${SIZES.sustained.toLocaleString('en')} events) and consumer together, into ${table}`,
  );
  const consumer = startDaemon('consumer', { ...baseEnv(topic, topic), ...env }, [], `consumer-sustained${suffix}`);
  await waitReady(PORTS.consumer);
  const producer = startDaemon(
    'producer',
    baseEnv(topic, 'unused'),
    ['--rate', '0', '--count', String(SIZES.sustained)],
    `producer-sustained${suffix}`,
  );
  const stored = await followStored(`sustained${suffix}`, SIZES.sustained);
  await producer.stop();
  await consumer.stop();
  await expectRows(db, before + SIZES.sustained, `sustained${suffix}`, table);
  return stored;
}

/** @param {pg.Client} db @param {number} before @param {number} rate @param {number} seconds @param {string} label */
export async function latencyPhase(db, before, rate, seconds, label) {
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
  const last = await scrape(PORTS.consumer);
  const { buckets } = last;
  await producer.stop();
  await consumer.stop();
  await expectRows(db, before + count, `latency at ${rate}/s`);
  const steady = bucketsSince(buckets, afterWarmUp ?? []);
  return {
    count,
    buckets,
    offsetReads: last.get(OFFSET_READS),
    p50Ms: histogramQuantile(0.5, buckets) * 1000,
    p99Ms: histogramQuantile(0.99, buckets) * 1000,
    steadyP99Ms: histogramQuantile(0.99, steady) * 1000,
  };
}

/** The original system's consumer, as it worked: a new connection and one INSERT for every message. */
/** @param {pg.Client} db */
export async function baselinePhase(db) {
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
export async function copyCeilingPhase(db) {
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
