/** The random run's measures and its report: recovery after each heal, then one table and one JSON line. */
import { parseDatabaseHosts, poolForHosts } from '@user-actions/shared/postgres/database-hosts';
import { DEFAULT_TABLE, sqlFor } from '../../../consumer/src/sql/sql.js';
import { readStoredOffsets } from '../../../consumer/src/writing/offsets.js';
import { topicEnds } from '../../../shared/src/kafka/topics.js';
import { waitFor } from '../../support/wait.js';
import type { World } from '../../support/world.js';
import type { Fleet } from '../fleet.js';
import type { ExactCheck } from './exact-check.js';
import type { RunContext } from './fault-kinds.js';

export interface FaultRecord {
  kind: string;
  /** Seconds into the run. */
  at: number;
  what: string;
  recoverySeconds: number;
  boundSeconds: number;
}

/** Longer than any bound: past it the run has failed anyway, and says where it was stuck. */
const RECOVERY_TIMEOUT_MS = 300_000;
const QUERY_TIMEOUT_MS = 3_000;

/**
 * Seconds until PostgreSQL's offsets reach the ends the topic has now: everything Kafka holds is stored.
 * A consumer that exits meanwhile without being asked fails the run.
 */
export async function timeToStoreWhatKafkaHolds(world: World, fleet: Fleet): Promise<number> {
  const from = Date.now();
  const ends = (await waitFor(
    () => topicEnds(world.admin, world.topic, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined),
    (found) => found !== undefined,
    { timeoutMs: 120_000, intervalMs: 500, what: "the topic's ends" },
  )) as Awaited<ReturnType<typeof topicEnds>>;
  await waitFor(
    async () => {
      await failIfOneExited(fleet);
      const stored = await storedOffsetsNow(world).catch(() => undefined);
      return ends.filter((end) => (stored?.get(end.partition) ?? 0n) < BigInt(end.high)).length;
    },
    (behind) => behind === 0,
    { timeoutMs: RECOVERY_TIMEOUT_MS, intervalMs: 250, what: 'every partition stored up to its end at the heal' },
  );
  return Math.round((Date.now() - from) / 100) / 10;
}

/** On a connection of its own, bounded: the test's pool may hold connections a fault left silent. */
async function storedOffsetsNow(world: World): Promise<Map<number, bigint>> {
  const hosts = parseDatabaseHosts(world.databaseUrl);
  if (typeof hosts === 'string') throw new Error(hosts);
  const pool = poolForHosts(hosts, { max: 1, connectionTimeoutMillis: QUERY_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS });
  pool.on('error', () => undefined);
  try {
    return await readStoredOffsets(pool, sqlFor(DEFAULT_TABLE), world.groupId, world.topic);
  } finally {
    pool.end().catch(() => undefined);
  }
}

async function failIfOneExited(fleet: Fleet): Promise<void> {
  for (const daemon of fleet.running) {
    const exit = await Promise.race([daemon.exited, Promise.resolve(undefined)]);
    if (exit === undefined) continue;
    const errors = daemon.logs
      .filter((line) => line.level >= 50)
      .map((line) => `${line.msg} ${JSON.stringify(line.reason ?? '')}`);
    throw new Error(
      `a consumer exited by itself (${JSON.stringify(exit)}): ${errors.join('; ') || daemon.text.slice(-10).join('\n')}`,
    );
  }
}

export function printRun(report: {
  settings: { minutes: number; seed: number; kinds: string[]; eventsPerSecond: number };
  records: FaultRecord[];
  check: ExactCheck;
  run: RunContext;
  stopExits: (number | null)[];
  minutes: number;
}): void {
  const { settings, records, check, run, stopExits } = report;
  const perKind = Object.fromEntries(
    settings.kinds.map((kind) => [kind, records.filter((record) => record.kind === kind).length]),
  );
  const lines = [
    `Random fault run, seed ${settings.seed}, ${Math.round(report.minutes)} min, ${settings.eventsPerSecond} events/s:`,
    '',
    '| # | at s | fault | what | stored again after s | bound s |',
    '| ---: | ---: | --- | --- | ---: | ---: |',
    ...records.map(
      (record, index) =>
        `| ${index + 1} | ${record.at} | ${record.kind} | ${record.what} | ${record.recoverySeconds} | ${record.boundSeconds} |`,
    ),
    '',
    '| fault | times | stored again after, median s | slowest s | bound s |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...[...new Set(records.map((record) => record.kind))].map((kind) => {
      const of = records.filter((record) => record.kind === kind);
      const times = of.map((record) => record.recoverySeconds).sort((a, b) => a - b);
      const bounds = [...new Set(of.map((record) => record.boundSeconds))].join(', ');
      return `| ${kind} | ${of.length} | ${times[Math.floor((times.length - 1) / 2)]} | ${times.at(-1)} | ${bounds} |`;
    }),
    '',
    `Events in the topic ${check.sent}, stored ${check.stored}: lost ${check.lost}, duplicated ${check.duplicated}, ` +
      `unexpected ${check.unexpected}, altered ${check.altered}, acknowledged but missing ${check.acknowledgedMissing}; ` +
      `dead-lettered ${check.deadLettered} of ${run.poisonSent.count} poison messages; rows PostgreSQL lost in failovers ` +
      `${run.databaseLost.join(', ') || 'none'}, all stored again; exits after SIGTERM ${stopExits.join(' ')}.`,
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  const slowest = Math.max(0, ...records.map((record) => record.recoverySeconds));
  process.stdout.write(
    `${JSON.stringify({ seed: settings.seed, minutes: report.minutes, faults: records.length, perKind, slowestRecoverySeconds: slowest, ...check, databaseLost: run.databaseLost, stopExits })}\n`,
  );
}
