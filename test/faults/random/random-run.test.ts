/**
 * The random fault run (`npm run test:faults -- --random`): a steady keyed load for the whole run while
 * faults drawn at random from every kind the suite knows strike one at a time, each healed before the
 * next; after each heal, the time until everything Kafka holds is stored, against the kind's bound. The
 * run ends with the load's last events followed by a failover on the idle topic, then an exact check of
 * the table against the topic, and every consumer stopped with SIGTERM must exit 0.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_EVENT } from '@user-actions/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, spawnDaemon } from '../../support/daemon.js';
import { createWorld } from '../../support/world.js';
import { createFleet } from '../fleet.js';
import { createKafkaBrokers, type KafkaBrokers } from '../kafka-brokers.js';
import { createPacketDrops, type PacketDrops } from '../packet-drops.js';
import { createReplicatedPostgres, type ReplicatedPostgres } from '../replicated-postgres.js';
import { REFILL_BOUND_MS } from '../suite.js';
import { inRounds, seededDraws } from './draws.js';
import { checkExactlyOnce } from './exact-check.js';
import { FAULT_KIND_NAMES, FAULT_KINDS, type FaultKind, type RunContext } from './fault-kinds.js';
import { type FaultRecord, printRun, timeToStoreWhatKafkaHolds } from './run-report.js';

const settings = {
  minutes: Number(process.env.FAULTS_RANDOM_MINUTES ?? 3),
  seed: Number(process.env.FAULTS_RANDOM_SEED ?? randomInt(2 ** 31)),
  kinds: process.env.FAULTS_RANDOM_KINDS?.split(',') ?? FAULT_KIND_NAMES,
  eventsPerSecond: Number(process.env.FAULTS_RANDOM_RATE ?? 200),
};
/** No fault starts in the steady load's last seconds. */
const TAIL_MS = 20_000;
/** Events sent after the faults, to the primary only, before the failover on the idle topic ends the run. */
const TAIL_EVENTS = 1_000;

let postgres: ReplicatedPostgres;
let kafka: KafkaBrokers;
let drops: PacketDrops;

beforeAll(async () => {
  const unknown = settings.kinds.filter((kind) => !(kind in FAULT_KINDS));
  if (unknown.length > 0) throw new Error(`unknown fault kinds ${unknown}; the kinds are ${FAULT_KIND_NAMES.join(', ')}`);
  drops = createPacketDrops();
  kafka = createKafkaBrokers(1, 24492);
  await kafka.startAll();
});

afterAll(async () => {
  drops?.remove();
  await kafka?.destroy();
  await postgres?.destroy();
});

describe('random faults', () => {
  it(`${settings.minutes} min, seed ${settings.seed}: ${settings.kinds.join(', ')}`, async () => {
    process.stdout.write(`random fault run: seed ${settings.seed} (repeat it with --seed ${settings.seed})\n`);
    postgres = await createReplicatedPostgres([25482, 25483]);
    const world = await createWorld({ databaseUrl: postgres.databaseUrl, kafkaBrokers: kafka.brokers });
    const fleet = createFleet({ ...world.env, LOG_SUMMARY_INTERVAL_MS: '1000' });
    fleet.start(2);
    const acknowledged = new Set<string>();
    const events = Math.round(settings.eventsPerSecond * settings.minutes * 60);
    const load = (count: number) =>
      spawnDaemon(
        'producer',
        {
          ...world.env,
          LOG_LEVEL: 'debug',
          PRODUCER_COUNT: String(count),
          PRODUCER_INTERVAL_MS: String(1000 / settings.eventsPerSecond),
        },
        [],
        (line) => {
          if (line.event !== LOG_EVENT.acknowledged) return line.level >= 30;
          for (const id of line.eventIds as string[]) acknowledged.add(id);
          return false;
        },
      );
    const producer = load(events);
    const draws = seededDraws(settings.seed);
    const run: RunContext = {
      world,
      fleet,
      kafka,
      postgres,
      drops,
      draws,
      stopExits: [],
      poisonSent: { count: 0 },
      databaseLost: [],
    };
    const records: FaultRecord[] = [];
    const startedAt = Date.now();
    const faultsEndAt = startedAt + settings.minutes * 60_000 - TAIL_MS;

    const kinds = inRounds(settings.kinds, draws);
    while (Date.now() < faultsEndAt) {
      await sleep(draws.between(2_000, 8_000));
      const name = kinds.next().value;
      const kind = FAULT_KINDS[name] as FaultKind; // every name was checked at the start
      const struckAt = Date.now();
      const what = await kind.strike(run);
      const recovery = await timeToStoreWhatKafkaHolds(world, fleet);
      records.push({
        kind: name,
        at: Math.round((struckAt - startedAt) / 1000),
        what,
        recoverySeconds: recovery,
        boundSeconds: kind.recoveryBoundMs / 1000,
      });
      process.stdout.write(`fault ${records.length}: ${JSON.stringify(records.at(-1))}\n`);
      await kind.settle?.(run);
    }

    await finished(producer);
    await timeToStoreWhatKafkaHolds(world, fleet);
    if (settings.kinds.includes('failover')) {
      // A last burst of load reaches the primary only (a fault may have outlasted the steady load, so the
      // burst is its own); then the topic stays idle and the primary fails over.
      postgres.holdReplication();
      await finished(load(TAIL_EVENTS));
      await timeToStoreWhatKafkaHolds(world, fleet);
      const struckAt = Date.now();
      const lost = await postgres.failover(world);
      expect(lost, 'rows the replica lacked at the failover after the load').toBeGreaterThan(0);
      run.databaseLost.push(lost);
      records.push({
        kind: 'failover, topic idle',
        at: Math.round((struckAt - startedAt) / 1000),
        what: `after the load: replica behind by ${lost} rows promoted`,
        recoverySeconds: await timeToStoreWhatKafkaHolds(world, fleet),
        boundSeconds: REFILL_BOUND_MS / 1000,
      });
    }

    const check = await checkExactlyOnce(world, acknowledged);
    const stopExits = [...run.stopExits, ...(await fleet.stopAll())];
    printRun({ settings, records, check, run, stopExits, minutes: (Date.now() - startedAt) / 60_000 });

    expect(check.sent, 'events in the topic').toBeGreaterThanOrEqual(events);
    expect(check).toMatchObject({
      lost: 0,
      duplicated: 0,
      unexpected: 0,
      altered: 0,
      acknowledgedMissing: 0,
      notDeadLettered: 0,
    });
    expect(check.deadLettered, 'messages dead-lettered').toBe(run.poisonSent.count);
    expect(stopExits, 'exit codes after SIGTERM').toEqual(stopExits.map(() => 0));
    const late = records.filter((record) => record.recoverySeconds > record.boundSeconds);
    expect(late, 'recoveries past their bound').toEqual([]);
  });
});

async function finished(producer: Daemon): Promise<void> {
  const exit = await producer.exited;
  if (exit.code !== 0) throw new Error(`the producer exited with ${exit.code}: ${producer.text.slice(-10).join('\n')}`);
}
