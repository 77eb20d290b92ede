/**
 * One fault-injection scenario: consumers and the producer run as real processes against the suite's
 * own broker(s) and PostgreSQL server while the scenario's fault strikes; then the suite waits until the
 * group has caught up and the table is stable, and counts what was lost, duplicated and redelivered.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_EVENT } from '@user-actions/shared';
import { topicEnds } from '../../shared/src/kafka/topics.js';
import { type Daemon, spawnDaemon } from '../support/daemon.js';
import { readTopic } from '../support/kafka.js';
import type { PostgresServer } from '../support/postgres-server.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld, type World } from '../support/world.js';
import { createFleet, type Fleet, summed } from './fleet.js';
import type { KafkaBrokers } from './kafka-brokers.js';

export interface ScenarioResult {
  scenario: string;
  produced: number;
  stored: number;
  lost: number;
  duplicated: number;
  redelivered: number;
  /** Distinct messages dead-lettered. */
  deadLettered: number;
  /** Dead letters in the topic, repeats included. */
  deadLetterCopies: number;
  recoverySeconds: number;
  /** Rows PostgreSQL lost in the fault (a failover to a replica behind, a restore), which Kafka refilled. */
  databaseLost?: number;
  /** The dependencies `/readyz` named while the fault lasted. */
  notReady?: string;
  /** Seconds from the fault's start until rows were stored again while it still lasted. */
  resumedAfterSeconds?: number;
  /** Consumers killed while their partition maintenance was under way, whose round left nothing behind. */
  killedMidRound?: number;
  /** Seconds from a failover until the table held every event again, with no new event to reveal the loss. */
  refilledAfterSeconds?: number;
}

export interface ScenarioContext {
  world: World;
  fleet: Fleet;
  producer: Daemon;
  postgres: PostgresServer;
  kafka: KafkaBrokers;
  /** Event ids the scenario itself produced and the broker acknowledged (duplicates included). */
  acknowledged: Set<string>;
  /** Messages the scenario produced that must end in the dead-letter topic. */
  poisonSent: { count: number };
  /** Set by a fault that makes PostgreSQL lose rows: how many. */
  databaseLost: { count?: number };
  /** Set by faults that watch readiness or recovery while they last. */
  observed: Pick<ScenarioResult, 'notReady' | 'resumedAfterSeconds' | 'killedMidRound' | 'refilledAfterSeconds'>;
}

export interface ScenarioOptions {
  name: string;
  postgres: PostgresServer;
  /** DATABASE_URL's server part when it is not `postgres`'s alone (a primary and its replica). */
  databaseUrl?: string;
  kafka: KafkaBrokers;
  events: number;
  /** Time between the producer's events; the run lasts about events × intervalMs. */
  intervalMs: number;
  consumers: number;
  /** More environment for the consumers, or settings of the world's own changed. */
  consumerEnv?: (world: World) => Record<string, string>;
  fault: (context: ScenarioContext) => Promise<void>;
}

const CATCH_UP_TIMEOUT_MS = 300_000;

export async function runScenario(
  options: ScenarioOptions,
): Promise<ScenarioResult & { poisonSent: number; exitCodes: (number | null)[] }> {
  const world = await createWorld({
    databaseUrl: options.databaseUrl ?? options.postgres.url,
    kafkaBrokers: options.kafka.brokers,
  });
  const fleet = createFleet({ ...world.env, LOG_SUMMARY_INTERVAL_MS: '250', ...options.consumerEnv?.(world) });
  fleet.start(options.consumers);
  const producer = spawnDaemon('producer', {
    ...world.env,
    LOG_LEVEL: 'debug',
    PRODUCER_COUNT: String(options.events),
    PRODUCER_INTERVAL_MS: String(options.intervalMs),
  });
  const context: ScenarioContext = {
    world,
    fleet,
    producer,
    postgres: options.postgres,
    kafka: options.kafka,
    acknowledged: new Set(),
    poisonSent: { count: 0 },
    databaseLost: {},
    observed: {},
  };

  await options.fault(context);
  const faultEndedAt = Date.now();
  const producerExit = await Promise.race([
    producer.exited,
    sleep(CATCH_UP_TIMEOUT_MS).then(() => {
      throw new Error(`the producer did not finish within ${CATCH_UP_TIMEOUT_MS} ms after the fault`);
    }),
  ]);
  if (producerExit.code !== 0) {
    const errors = producer.logs
      .filter((line) => line.level >= 50)
      .map((line) => `${line.msg} ${JSON.stringify(line.reason ?? line.err ?? '')}`);
    throw new Error(`the producer exited with ${producerExit.code}: ${errors.join('; ') || producer.text.join('\n')}`);
  }
  if (fleet.running.length === 0) fleet.start();
  await Promise.race([waitForCatchUp(world), failOnUnexpectedExit(fleet)]);
  const recoverySeconds = (Date.now() - faultEndedAt) / 1000;

  const acknowledged = new Set([...acknowledgedBy(producer), ...context.acknowledged]);
  const { rows } = await world.db.query<{ event_id: string }>('SELECT event_id FROM useractions');
  const stored = new Set(rows.map((row) => row.event_id));
  const unexpected = [...stored].filter((id) => !acknowledged.has(id));
  if (unexpected.length > 0) throw new Error(`${unexpected.length} stored events were never acknowledged to a producer`);
  const untallied = await world.untallied();
  if (untallied.length > 0) throw new Error(`the per-minute tally disagrees with the table: ${untallied.slice(0, 5).join('; ')}`);
  const exitCodes = await fleet.stopAll();
  const lost = [...acknowledged].filter((id) => !stored.has(id));
  if (lost.length > 0) await explainLoss(world, lost, producer);
  return {
    scenario: options.name,
    produced: acknowledged.size,
    stored: rows.length,
    lost: lost.length,
    duplicated: rows.length - stored.size,
    redelivered: summed(fleet, 'redelivered'),
    ...(await deadLetterCounts(world).then(({ distinct, copies }) => ({ deadLettered: distinct, deadLetterCopies: copies }))),
    recoverySeconds: Math.round(recoverySeconds * 10) / 10,
    ...(context.databaseLost.count !== undefined && { databaseLost: context.databaseLost.count }),
    ...context.observed,
    poisonSent: context.poisonSent.count,
    exitCodes,
  };
}

/** A consumer that exits while nobody asked it to is a failure of the scenario: say why it exited. */
async function failOnUnexpectedExit(fleet: Fleet): Promise<never> {
  const exit = await Promise.race(fleet.running.map((daemon) => daemon.exited.then((result) => ({ daemon, result }))));
  const errors = exit.daemon.logs
    .filter((line) => line.level >= 50)
    .map((line) => `${line.msg} ${JSON.stringify(line.reason ?? line.err ?? '')}`);
  throw new Error(
    `a consumer exited by itself (${JSON.stringify(exit.result)}): ${errors.join('; ') || exit.daemon.text.join('\n')}`,
  );
}

/** Says whether lost events never reached the topic (a producer or broker fault) or were skipped by the consumer. */
async function explainLoss(world: World, lost: string[], producer: Daemon): Promise<void> {
  const inTopic = new Set(
    (await readTopic(world.kafka, world.admin, world.topic)).map((message) => JSON.parse(message.value ?? '{}').EventId),
  );
  const skipped = lost.filter((id) => inTopic.has(id));
  const warnings = producer.logs.filter((line) => line.level >= 40).map((line) => `${line.msg}: ${String(line.reason ?? '')}`);
  process.stdout.write(
    `${lost.length} lost: ${skipped.length} are in the topic (skipped by the consumer), ` +
      `${lost.length - skipped.length} are not (never written or truncated). Producer warnings: ${warnings.slice(0, 20).join(' | ')}\n`,
  );
}

/** The event ids the broker acknowledged to the producer so far (from its debug log). */
export function acknowledgedBy(producer: Daemon): string[] {
  return producer.logs.filter((line) => line.event === LOG_EVENT.acknowledged).flatMap((line) => line.eventIds as string[]);
}

/**
 * PostgreSQL's offsets (the ones trusted: Kafka's may still be ahead of a database that lost rows) have
 * reached the end of every partition, and the table has stopped changing.
 */
async function waitForCatchUp(world: World): Promise<void> {
  await waitFor(
    async () => {
      const ends = await topicEnds(world.admin, world.topic, { signal: AbortSignal.timeout(60_000) });
      const stored = await world.storedOffsets().catch(() => new Map<number, bigint>());
      return ends.filter((end) => (stored.get(end.partition) ?? 0n) !== BigInt(end.high)).length;
    },
    (partitionsBehind) => partitionsBehind === 0,
    { timeoutMs: CATCH_UP_TIMEOUT_MS, intervalMs: 500, what: 'the consumer group to catch up' },
  );
  await waitUntilStable(world.rowCount, { stableMs: 2_000, timeoutMs: CATCH_UP_TIMEOUT_MS });
}

/**
 * Dead letters are at least once (a batch replayed after a rebalance dead-letters its poison again), so
 * what counts is how many distinct messages reached the dead-letter topic, by the position they came from.
 */
async function deadLetterCounts(world: World): Promise<{ distinct: number; copies: number }> {
  const topic = `${world.topic}.dlq`;
  if (!(await world.admin.listTopics()).includes(topic)) return { distinct: 0, copies: 0 };
  const letters = await readTopic(world.kafka, world.admin, topic);
  const origins = new Set(letters.map(({ headers }) => `${headers['dlq.source.partition']}/${headers['dlq.source.offset']}`));
  return { distinct: origins.size, copies: letters.length };
}

/** Repeats `action` `times` times, `everyMs` apart, while the producer is still producing (or until done). */
export async function repeatedly(times: number, everyMs: number, action: (round: number) => Promise<void>): Promise<void> {
  for (let round = 1; round <= times; round++) {
    await sleep(everyMs);
    await action(round);
  }
}
