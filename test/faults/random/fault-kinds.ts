/**
 * Every kind of fault the random run draws from, each struck and healed in one call: the consumers
 * killed, stopped, frozen and scaled; the broker killed or silent; PostgreSQL restarted, crashed, silent,
 * locked, and failed over to a replica behind (then a new replica built, so that failovers can follow
 * each other); poison messages. Each returns a few words on what it did, for the run's log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { loadConsumerConfig } from '../../../consumer/src/config.js';
import { APPLICATION_NAME } from '../../../consumer/src/connecting/pool.js';
import { waitFor } from '../../support/wait.js';
import { type World, withDatabase } from '../../support/world.js';
import type { Fleet } from '../fleet.js';
import type { KafkaBrokers } from '../kafka-brokers.js';
import type { PacketDrops } from '../packet-drops.js';
import { sendPoison } from '../poison.js';
import type { ReplicatedPostgres } from '../replicated-postgres.js';
import { databaseOf } from '../servers.js';
import type { Draws } from './draws.js';

export interface RunContext {
  world: World;
  fleet: Fleet;
  kafka: KafkaBrokers;
  postgres: ReplicatedPostgres;
  drops: PacketDrops;
  draws: Draws;
  /** The exit code of every consumer stopped with SIGTERM during the run: each must be 0. */
  stopExits: (number | null)[];
  poisonSent: { count: number };
  /** Rows the replica lacked at each failover. */
  databaseLost: number[];
}

export interface FaultKind {
  /** Strikes and heals; says what it did. */
  strike(run: RunContext): Promise<string>;
  /** After the heal, how long storing everything Kafka holds may take. */
  recoveryBoundMs: number;
  /** Once recovered, before the next fault (a new replica after a failover). */
  settle?(run: RunContext): Promise<void>;
}

const { sessionTimeoutMs } = loadConsumerConfig({});
/** A consumer counted out of its group, its partitions given to another, then catching up. */
const REBALANCE_BOUND_MS = sessionTimeoutMs + 50_000;
/** The consumers' own PostgreSQL timeouts (statement 30 s + 5 s grace, connecting 10 s) and a rebalance. */
const SILENCE_BOUND_MS = 90_000;

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

async function sigtermOne({ fleet, stopExits }: RunContext): Promise<void> {
  stopExits.push((await fleet.stopOne('SIGTERM')).code);
}

/** A session on the primary holding `useractions` exclusively: every batch waits on it. */
async function lockTable(run: RunContext): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: withDatabase(run.postgres.primary.url, databaseOf(run.world)) });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE useractions IN ACCESS EXCLUSIVE MODE');
  return {
    async release() {
      await client.query('COMMIT').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

async function batchesWaitingOnLock(run: RunContext): Promise<number> {
  const client = new pg.Client({ connectionString: withDatabase(run.postgres.primary.url, databaseOf(run.world)) });
  await client.connect();
  try {
    const { rows } = await client.query<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
      [APPLICATION_NAME],
    );
    return rows[0]?.waiting ?? 0;
  } finally {
    await client.end();
  }
}

/** The primary stopped (`immediate`: a crash, as far as clients can tell) and started 1–5 s later. */
function primaryRestarted(mode: 'fast' | 'immediate'): FaultKind {
  return {
    recoveryBoundMs: 30_000,
    async strike({ postgres, draws }) {
      postgres.primary.stop(mode);
      const downMs = draws.between(1_000, 5_000);
      await sleep(downMs);
      postgres.primary.start();
      return `stopped (${mode}), started after ${seconds(downMs)}`;
    },
  };
}

/** Every packet to and from a port dropped for 10 s to `longestMs`. */
function silentPort(port: (run: RunContext) => number, longestMs: number): FaultKind {
  return {
    recoveryBoundMs: SILENCE_BOUND_MS,
    async strike(run) {
      const silence = run.drops.silencePort(port(run));
      const silentMs = run.draws.between(10_000, longestMs);
      await sleep(silentMs);
      silence.lift();
      return `packets dropped ${seconds(silentMs)}`;
    },
  };
}

export const FAULT_KINDS: Readonly<Record<string, FaultKind>> = {
  'consumer-killed': {
    recoveryBoundMs: REBALANCE_BOUND_MS,
    async strike({ fleet }) {
      await fleet.stopOne('SIGKILL');
      fleet.start();
      return 'kill -9, a new one started';
    },
  },
  'consumer-stopped': {
    recoveryBoundMs: REBALANCE_BOUND_MS,
    async strike(run) {
      await sigtermOne(run);
      run.fleet.start();
      return 'SIGTERM, a new one started';
    },
  },
  'consumer-frozen': {
    recoveryBoundMs: REBALANCE_BOUND_MS + 30_000,
    async strike(run) {
      // Its batch held in flight by a lock, then the process frozen past its session and the lock released:
      // it wakes with a transaction its group has since given to another consumer.
      const victim = run.fleet.running[0];
      if (!victim) throw new Error('no consumer is running');
      const lock = await lockTable(run);
      let inFlight: number;
      try {
        inFlight = await waitFor(
          () => batchesWaitingOnLock(run),
          (waiting) => waiting > 0,
          { timeoutMs: 10_000, intervalMs: 100, what: 'a batch waiting on the lock' },
        );
        process.kill(victim.pid, 'SIGSTOP');
      } finally {
        await lock.release();
      }
      const frozenMs = run.draws.between(sessionTimeoutMs + 2_000, sessionTimeoutMs + 10_000);
      await sleep(frozenMs);
      process.kill(victim.pid, 'SIGCONT');
      return `SIGSTOP ${seconds(frozenMs)} with ${inFlight} batch(es) in flight, then SIGCONT`;
    },
  },
  'consumers-scaled': {
    recoveryBoundMs: REBALANCE_BOUND_MS,
    async strike(run) {
      const before = run.fleet.running.length;
      run.fleet.start();
      const heldMs = run.draws.between(5_000, 15_000);
      await sleep(heldMs);
      await sigtermOne(run);
      return `${before} → ${before + 1} for ${seconds(heldMs)} → ${before}`;
    },
  },
  'broker-killed': {
    recoveryBoundMs: 90_000,
    async strike({ kafka, draws }) {
      kafka.kill();
      const downMs = draws.between(1_000, 5_000);
      await sleep(downMs);
      await kafka.start();
      return `kill -9, started again after ${seconds(downMs)}`;
    },
  },
  'postgres-restarted': primaryRestarted('fast'),
  'postgres-crashed': primaryRestarted('immediate'),
  'postgres-silent': silentPort((run) => run.postgres.primary.port, 40_000),
  'kafka-silent': silentPort((run) => Number(run.kafka.brokers.split(':')[1]), 30_000),
  'table-locked': {
    recoveryBoundMs: REBALANCE_BOUND_MS,
    async strike(run) {
      const lock = await lockTable(run);
      const heldMs = run.draws.between(sessionTimeoutMs + 5_000, 40_000);
      await sleep(heldMs);
      await lock.release();
      return `every batch slowed ${seconds(heldMs)}`;
    },
  },
  poison: {
    recoveryBoundMs: 30_000,
    async strike({ world, draws, poisonSent }) {
      const count = draws.between(10, 40);
      poisonSent.count += await sendPoison(world.kafka, world.topic, count, 3_000);
      return `${count} messages to dead-letter`;
    },
  },
  failover: {
    recoveryBoundMs: 60_000,
    async strike({ world, postgres, draws, databaseLost }) {
      postgres.holdReplication();
      const heldMs = draws.between(1_000, 4_000);
      await sleep(heldMs); // commits the replica never gets
      const lost = await postgres.failover(world);
      databaseLost.push(lost);
      return `primary killed, replica behind by ${lost} rows promoted`;
    },
    async settle({ postgres }) {
      await postgres.rebuildReplica();
    },
  },
};

export const FAULT_KIND_NAMES = Object.keys(FAULT_KINDS);
