/**
 * A SIGTERM in the states only the suite's own brokers can produce ends a daemon with exit 0 within the
 * grace: while the cluster has fewer brokers than its replication factor (the topic waited for), and in
 * the Kafka client's backoff while its broker is away or just back.
 */
import { SHUTDOWN_GRACE_MS } from '@user-actions/shared/daemon';
import { expect } from 'vitest';
import { type Daemon, type Exit, spawnDaemon } from '../support/daemon.js';
import type { PostgresServer } from '../support/postgres-server.js';
import { createWorld } from '../support/world.js';
import type { Fleet } from './fleet.js';

/** The stop's exit code and time, with the daemon's last lines should it fail. */
function expectGraceful(what: string, exit: Exit, daemon?: Daemon): void {
  const last = exit.code === 0 || daemon === undefined ? [] : [...daemon.logs.slice(-6), ...daemon.text.slice(-6)];
  expect({ what, code: exit.code, withinGrace: exit.ms < SHUTDOWN_GRACE_MS, last }).toEqual({
    what,
    code: 0,
    withinGrace: true,
    last: [],
  });
}

/**
 * The consumer and the producer started against a cluster that refuses to create their topic while a
 * broker is missing (INVALID_REPLICATION_FACTOR, retried), and stopped while they wait.
 */
export async function stopWhileTopicWaitsForBrokers(postgres: PostgresServer, brokers: string): Promise<void> {
  const world = await createWorld({ databaseUrl: postgres.url, kafkaBrokers: brokers });
  const daemons = (['consumer', 'producer'] as const).map((name) => ({ name, daemon: spawnDaemon(name, world.env) }));
  for (const { daemon } of daemons) await daemon.waitForLog((line) => line.msg === 'topic not ready yet');
  const exits = await Promise.all(daemons.map(({ daemon }) => daemon.stop()));
  daemons.forEach(({ name, daemon }, index) => {
    expectGraceful(`${name} waiting for its topic`, exits[index] as Exit, daemon);
  });
}

/** The oldest consumer of the fleet stopped with SIGTERM, and another started in its place. */
export async function stopOneGracefully(fleet: Fleet, when: string): Promise<void> {
  const oldest = fleet.running[0];
  expectGraceful(`consumer, ${when}`, await fleet.stopOne('SIGTERM'), oldest);
  fleet.start();
}
