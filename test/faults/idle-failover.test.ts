/**
 * A database that lost its last commits while the topic is quiet: the load ends, then PostgreSQL fails
 * over to a replica that lacks the last commits, and no event arrives afterwards to reveal the loss. The
 * consumers must find it by themselves (their watch on the stored offsets) and refill the table from
 * Kafka within REFILL_BOUND_MS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { createKafkaBrokers, type KafkaBrokers } from './kafka-brokers.js';
import { createReplicatedPostgres, type ReplicatedPostgres } from './replicated-postgres.js';
import { acknowledgedBy } from './scenario.js';
import { rowsOn } from './servers.js';
import { createSuite, REFILL_BOUND_MS, SIZE } from './suite.js';

let kafka: KafkaBrokers;
/** Removed after the worlds on them. */
const ownServers: ReplicatedPostgres[] = [];
beforeAll(async () => {
  kafka = createKafkaBrokers(1, 24392);
  await kafka.startAll();
});

afterAll(async () => {
  printTable('A quiet topic');
  await kafka?.destroy();
  for (const servers of ownServers) await servers.destroy();
});

const { scenario, printTable } = createSuite(() => {
  throw new Error('each scenario of this file brings its own PostgreSQL');
});

describe.sequential('a quiet topic', () => {
  it('20. the load ends, then a failover to a replica that lacks the last commits; no event arrives after it', async () => {
    const pair = await createReplicatedPostgres([25472, 25473]);
    ownServers.push(pair);
    const result = await scenario(
      'load ended, then failover to a replica behind',
      { postgres: pair.primary, brokers: kafka, databaseUrl: pair.databaseUrl },
      async ({ world, producer, databaseLost, observed }) => {
        // The last tenth of the load reaches the primary only.
        await waitFor(
          () => acknowledgedBy(producer).length,
          (acknowledged) => acknowledged >= SIZE.events * 0.9,
          { timeoutMs: 120_000, what: 'nine tenths of the load acknowledged' },
        );
        pair.holdReplication();
        expect((await producer.exited).code, 'producer exit code').toBe(0);
        const produced = new Set(acknowledgedBy(producer)).size;
        await waitFor(
          () => rowsOn(pair.primary, world),
          (rows) => rows === produced,
          { timeoutMs: 120_000, what: 'every event stored on the primary' },
        );
        databaseLost.count = await pair.failover(world);
        const failedOverAt = Date.now();
        await waitFor(
          () => world.rowCount().catch(() => 0),
          (rows) => rows === produced,
          { timeoutMs: REFILL_BOUND_MS, intervalMs: 100, what: 'every event in the table again, the topic idle' },
        );
        observed.refilledAfterSeconds = Math.round((Date.now() - failedOverAt) / 100) / 10;
      },
    );
    expect(result.databaseLost, 'rows the replica lacked at the failover').toBeGreaterThan(0);
  });
});
