#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --save]`: the pipeline's speed on this machine, on a real Kafka broker (started
// here on its own port) and the PostgreSQL of DATABASE_URL, with the daemons as users run them.
//
// Phases, each on its own topic and consumer group, all rows in one table:
//   producer  `producer --rate 0 --count N` fills a backlog                         → producer_eps
//             and the same with the original's random events (SIM_USERS=0)        → producer_random_eps
//   catch-up  a consumer drains that backlog, nothing else running                  → catchup_eps, RSS
//             and again into a plain table (DATABASE_PARTITION_INTERVAL=none)       → catchup_plain_eps
//   sustained producer (as fast as it can) and consumer together                    → sustained_eps
//             and again into the plain table                                        → sustained_plain_eps
//   latency   producer at 5,000 events/s, then at the default pace (2 events/s)     → p50_ms, p99_ms
//             and p99 without the first 5 s, while the consumer settles           → steady_p99_ms
//   baseline  the original system's loader: one connection and one INSERT a message → baseline_eps
//   ceiling   PostgreSQL's server-side COPY of the catch-up rows into a copy of the table → copy_ceiling_eps
//   offsets   the consumer's insert of those rows, with and without the offset in the transaction → offsets_cost
//   index     the same into partitioned tables, with and without the read side's ("timestamp", id) index → time_index_cost
//   tallies   the same, with and without adding each batch's counts to the tallies → tally_cost
// Every phase checks that each event is stored exactly once. The run ends with a table and one JSON line,
// appends that line (with the date, commit and host) to docs/benchmarks/runs.jsonl and redraws
// docs/benchmarks/runs.svg, and leaves bench-results/ (results.json, the daemons' logs, throughput.svg and
// latency.svg); --save also copies those into docs/benchmarks/.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { say, timeline } from './bench/observe.mjs';
import {
  baselinePhase,
  catchUpPhase,
  copyCeilingPhase,
  kafkaScript,
  latencyPhase,
  producerPhase,
  sustainedPhase,
} from './bench/phases.mjs';
import { machine, printTable, writeCharts } from './bench/report.mjs';
import { recordRun } from './bench/runs.mjs';
import { adminUrl, benchDatabase, databaseUrl, outDir, quick, repo, SIZES, save } from './bench/settings.mjs';
import { offsetsCostPhase, tallyCostPhase, timeIndexCostPhase } from './bench/store-cost.mjs';

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
    const measured = await runPhases(db);
    const results = resultsOf(measured);
    await report(results, measured.busy);
  } finally {
    await db.end();
    await admin.end();
    kafkaScript('stop', stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * Every phase in turn, on one broker and one database.
 * @param {import('pg').Client} db
 */
async function runPhases(db) {
  const producer_eps = await producerPhase('bench-backlog', SIZES.backlog);
  const producer_random_eps = await producerPhase('bench-random', SIZES.random, true);
  const catchUp = await catchUpPhase(db);
  const catchUpPlain = await catchUpPhase(db, 'plain');
  const sustained = await sustainedPhase(db, SIZES.backlog);
  const sustainedPlain = await sustainedPhase(db, SIZES.backlog, 'plain');
  let stored = SIZES.backlog + SIZES.sustained;
  const busy = await latencyPhase(db, stored, 5_000, SIZES.latencySeconds, '5,000/s');
  stored += busy.count;
  const idle = await latencyPhase(db, stored, 2, SIZES.idleSeconds, 'default pace');
  const baseline_eps = await baselinePhase(db);
  const copy_ceiling_eps = await copyCeilingPhase(db);
  const offsets = await offsetsCostPhase(db);
  const timeIndex = await timeIndexCostPhase(db);
  const tallies = await tallyCostPhase(db);
  return {
    producer_eps,
    producer_random_eps,
    catchUp,
    catchUpPlain,
    sustained,
    sustainedPlain,
    busy,
    idle,
    baseline_eps,
    copy_ceiling_eps,
    offsets,
    timeIndex,
    tallies,
  };
}

/**
 * The summary line's figures, from the phases' measurements.
 * @param {Awaited<ReturnType<typeof runPhases>>} m
 */
function resultsOf(m) {
  return {
    sustained_eps: Math.round(m.sustained.eps),
    catchup_eps: Math.round(m.catchUp.eps),
    p50_ms: Number(m.busy.p50Ms.toFixed(1)),
    p99_ms: Number(m.busy.p99Ms.toFixed(1)),
    steady_p99_ms: Number(m.busy.steadyP99Ms.toFixed(1)),
    idle_p50_ms: Number(m.idle.p50Ms.toFixed(1)),
    idle_p99_ms: Number(m.idle.p99Ms.toFixed(1)),
    consumer_rss_mb: Math.round(Math.max(m.catchUp.rssMb, m.sustained.rssMb)),
    producer_eps: Math.round(m.producer_eps),
    producer_random_eps: Math.round(m.producer_random_eps),
    baseline_eps: Math.round(m.baseline_eps),
    copy_ceiling_eps: Math.round(m.copy_ceiling_eps),
    store_without_offsets_eps: Math.round(m.offsets.withoutEps),
    store_with_offsets_eps: Math.round(m.offsets.withEps),
    offsets_cost: Number(m.offsets.cost.toFixed(3)),
    store_without_time_index_eps: Math.round(m.timeIndex.withoutEps),
    store_with_time_index_eps: Math.round(m.timeIndex.withEps),
    time_index_cost: Number(m.timeIndex.cost.toFixed(3)),
    store_without_tallies_eps: Math.round(m.tallies.withoutEps),
    store_with_tallies_eps: Math.round(m.tallies.withEps),
    tally_cost: Number(m.tallies.cost.toFixed(3)),
    catchup_plain_eps: Math.round(m.catchUpPlain.eps),
    sustained_plain_eps: Math.round(m.sustainedPlain.eps),
    catchup_partitioned_vs_plain: Number((m.catchUp.eps / m.catchUpPlain.eps).toFixed(3)),
    sustained_partitioned_vs_plain: Number((m.sustained.eps / m.sustainedPlain.eps).toFixed(3)),
    catchup_vs_copy_ceiling: Number((m.catchUp.eps / m.copy_ceiling_eps).toFixed(3)),
    catchup_offset_reads: m.catchUp.offsetReads,
    sustained_offset_reads: m.sustained.offsetReads,
    idle_offset_reads: m.idle.offsetReads,
    sustained_vs_baseline: Number((m.sustained.eps / m.baseline_eps).toFixed(1)),
    backlog_events: SIZES.backlog,
    sustained_events: SIZES.sustained,
    quick,
  };
}

/**
 * The results written, charted, recorded and printed.
 * @param {ReturnType<typeof resultsOf>} results
 * @param {Awaited<ReturnType<typeof latencyPhase>>} busy
 */
async function report(results, busy) {
  const host = machine();
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify({ machine: host, results, timeline }, null, 2)}\n`);
  await writeCharts(busy);
  await recordRun(results, host);
  if (save) {
    const docs = join(repo, 'docs', 'benchmarks');
    mkdirSync(docs, { recursive: true });
    for (const file of ['results.json', 'throughput.svg', 'latency.svg']) copyFileSync(join(outDir, file), join(docs, file));
  }
  printTable(results);
  say(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
