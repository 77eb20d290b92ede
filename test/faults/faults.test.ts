/**
 * The fault-injection suite: the promise is that every valid event is stored exactly once and every
 * invalid one is dead-lettered, whatever is killed or restarted. Each scenario runs the real daemons
 * against a broker and a PostgreSQL server of the suite's own, and ends with the counts in one table.
 * `npm run test:faults` runs the CI-sized version; `npm run test:faults -- --full` the full numbers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_EVENT } from '@user-actions/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTime, intervalStart, partitionSuffix } from '../../consumer/src/schema/partition-layout.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { spawnDaemon } from '../support/daemon.js';
import { readTopic } from '../support/kafka.js';
import { createPostgresServer, createStandbyServer, type PostgresServer } from '../support/postgres-server.js';
import { createTcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { stopOneGracefully, stopWhileTopicWaitsForBrokers } from './graceful-stops.js';
import { createKafkaBrokers, type KafkaBrokers } from './kafka-brokers.js';
import { POISON_KINDS, sendPoison } from './poison.js';
import { repeatedly } from './scenario.js';
import { databaseOf, onServer, rowsOn } from './servers.js';
import { createSuite, FULL, runSeconds, SIZE, spacing } from './suite.js';

// Fixed ports below the kernel's ephemeral range (32768+), so that no outgoing connection can hold one.
let postgres: PostgresServer;
let kafka: KafkaBrokers;
/** A scenario's own servers (a primary and its replica), removed after the worlds on them. */
const ownServers: PostgresServer[] = [];

beforeAll(async () => {
  postgres = createPostgresServer(25432);
  postgres.start();
  kafka = createKafkaBrokers(1, 24092);
  await kafka.startAll();
});

afterAll(async () => {
  printTable('Fault injection');
  await kafka?.destroy();
  postgres?.destroy();
  for (const server of ownServers) server.destroy();
});

const { scenario, printTable } = createSuite(() => ({ postgres, kafka }));

describe.sequential(`fault injection (${FULL ? 'full' : 'CI'} size: ${SIZE.events} events per scenario)`, () => {
  it('1. kill -9 a consumer 10 times', async () => {
    // Whether a kill lands mid-batch (leaving work to redo) is chance; what must hold is the counts.
    await scenario('kill -9 a consumer ×10', {}, async ({ fleet }) => {
      await repeatedly(10, spacing(10), async () => {
        await fleet.stopOne('SIGKILL');
        fleet.start();
      });
    });
  });

  it('2. SIGTERM and restart a consumer 10 times', async () => {
    await scenario('SIGTERM a consumer ×10', {}, async ({ fleet }) => {
      await repeatedly(10, spacing(10), async () => {
        const exit = await fleet.stopOne('SIGTERM');
        expect(exit.code, 'exit code after SIGTERM').toBe(0);
        fleet.start();
      });
    });
  });

  it('3. restart the broker 3 times, and keep it down for a minute once', async () => {
    await scenario('broker restarted ×3, down 60 s', {}, async ({ kafka: brokers, fleet }) => {
      await repeatedly(3, spacing(4), async (round) => {
        await brokers.stop();
        await brokers.start();
        // A SIGTERM in the client's backoff, its broker just back.
        if (round === 1) await stopOneGracefully(fleet, 'broker just back');
      });
      await brokers.stop();
      await sleep(SIZE.outageMs / 2);
      await stopOneGracefully(fleet, 'broker away');
      await sleep(SIZE.outageMs / 2);
      await brokers.start();
    });
  });

  it('4. restart PostgreSQL, and keep it down for a minute once', async () => {
    await scenario('PostgreSQL crashed ×2, down 60 s', {}, async ({ postgres: server }) => {
      await repeatedly(2, spacing(3), async () => {
        server.stop('immediate');
        await sleep(1_000);
        server.start();
      });
      server.stop('fast');
      await sleep(SIZE.outageMs);
      server.start();
    });
  });

  it('5. three consumers scaled to one and back to three', async () => {
    await scenario('3 consumers → 1 → 3', { consumers: 3 }, async ({ fleet }) => {
      await sleep(spacing(3));
      await fleet.stopOne('SIGTERM');
      await fleet.stopOne('SIGTERM');
      await sleep(spacing(3));
      fleet.start(2);
    });
  });

  it('6. one batch slowed past the session timeout', async () => {
    await scenario('a batch slowed 40 s', {}, async ({ world }) => {
      await sleep(spacing(2));
      // Every insert waits on this lock for longer than the session timeout (10 s by default).
      const client = await world.db.connect();
      try {
        await client.query('BEGIN');
        await client.query('LOCK TABLE useractions IN ACCESS EXCLUSIVE MODE');
        await sleep(40_000);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    });
  });

  it('7. 1% poison messages of every kind mixed in', async () => {
    const result = await scenario('1% poison of every kind', {}, async ({ world, poisonSent }) => {
      poisonSent.count = await sendPoison(world.kafka, world.topic, Math.ceil(SIZE.events / 100), runSeconds * 800);
    });
    expect(result.poisonSent).toBeGreaterThanOrEqual(Object.keys(POISON_KINDS).length);
  });

  it('8. the same events sent twice by the producer side', async () => {
    const resent = Math.ceil(SIZE.events / 20);
    const result = await scenario('5% of events sent twice', {}, async ({ world, producer }) => {
      await producer.exited;
      const sent = await readTopic(world.kafka, world.admin, world.topic);
      const producer2 = world.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer2.connect();
      await producer2.send({
        topic: world.topic,
        acks: -1,
        messages: sent.slice(0, resent).map((message) => ({ key: message.key, value: message.value })),
      });
      await producer2.disconnect();
    });
    expect(result.redelivered).toBeGreaterThanOrEqual(resent);
  });

  it('9. a three-broker cluster loses a broker mid-run and gets it back', async () => {
    const cluster = createKafkaBrokers(3, 24192);
    try {
      // Two of three: a quorum of controllers, one broker short of the topics' replication factor.
      await Promise.all([cluster.start(0), cluster.start(1)]);
      await stopWhileTopicWaitsForBrokers(postgres, cluster.brokers);
      await cluster.start(2);
      await scenario('3 brokers, one stopped and back', { brokers: cluster }, async ({ kafka: brokers }) => {
        await sleep(spacing(3));
        await brokers.stop(1);
        await sleep(spacing(3));
        await brokers.start(1);
      });
    } finally {
      await cluster.destroy();
    }
  });

  it('10. failover to an asynchronous replica that lacks the last commits', async () => {
    const primary = createPostgresServer(25442);
    primary.start();
    // The replica follows through a link the fault can hold, so that it really is behind at the kill.
    const link = await createTcpProxy({ host: '127.0.0.1', port: 25442 });
    await link.open();
    const standby = createStandbyServer(25443, 25442, { followVia: link.port });
    standby.start();
    ownServers.push(primary, standby);
    const result = await scenario(
      'failover, asynchronous replica behind',
      { postgres: primary, databaseUrl: 'postgres://postgres@127.0.0.1:25442,127.0.0.1:25443/postgres' },
      async ({ world, databaseLost }) => {
        await sleep(spacing(2));
        link.hold();
        await sleep(3_000); // commits the replica never gets
        const onPrimary = await rowsOn(primary, world);
        primary.kill();
        await link.close();
        const onStandby = await rowsOn(standby, world);
        standby.promote();
        databaseLost.count = onPrimary - onStandby;
      },
    );
    expect(result.databaseLost, 'rows the replica lacked at the failover').toBeGreaterThan(0);
  });

  it('11. failover to a synchronous replica', async () => {
    const primary = createPostgresServer(25452, { settings: ["synchronous_standby_names = '*'"] });
    primary.start();
    const standby = createStandbyServer(25453, 25452);
    standby.start();
    ownServers.push(primary, standby);
    await scenario(
      'failover, synchronous replica',
      { postgres: primary, databaseUrl: 'postgres://postgres@127.0.0.1:25452,127.0.0.1:25453/postgres' },
      async ({ world, databaseLost }) => {
        await sleep(spacing(2));
        const onPrimary = await rowsOn(primary, world);
        primary.kill();
        const onStandby = await rowsOn(standby, world);
        standby.promote();
        databaseLost.count = Math.max(0, onPrimary - onStandby);
      },
    );
  });

  it('12. the database restored from a dump taken mid-run', async () => {
    const result = await scenario('restored from a dump taken mid-run', {}, async ({ world, fleet, databaseLost }) => {
      await sleep(spacing(3));
      const dump = join(mkdtempSync(join(tmpdir(), 'user-actions-dump-')), 'events.dump');
      execFileSync('pg_dump', ['--format=custom', '--file', dump, world.databaseUrl]);
      await sleep(spacing(3));
      // As an operator restores: consumers stopped, the database replaced by the dump, consumers started.
      expect(await fleet.stopAll(), 'consumer exit codes').toEqual([0, 0]);
      const before = await world.rowCount();
      const database = databaseOf(world);
      await onServer(postgres, `DROP DATABASE ${database} WITH (FORCE)`);
      await onServer(postgres, `CREATE DATABASE ${database}`);
      execFileSync('pg_restore', ['--dbname', world.databaseUrl, dump]);
      databaseLost.count = before - (await world.rowCount());
      fleet.start(2);
    });
    expect(result.databaseLost, 'rows the restore took away').toBeGreaterThan(0);
  });

  it('13. kill -9 during partition maintenance, 5 times', async () => {
    const hourly = { DATABASE_PARTITION_INTERVAL: 'hour', DATABASE_RETENTION: '2 hours' };
    const sql = sqlFor(DEFAULT_TABLE);
    const result = await scenario(
      'kill -9 during partition maintenance ×5',
      { consumerEnv: () => hourly },
      async ({ world, observed }) => {
        const oldPartitions = async () =>
          Number(
            (
              await world.db.query(`SELECT count(*) FROM pg_class WHERE relname ~ '^useractions_p' AND relname < $1`, [
                sql.partitionName(partitionSuffix('hour', addTime('hour', new Date(), -24))),
              ])
            ).rows[0].count,
          );
        let killedMidRound = 0;
        // The old partitions are made beside the consumers' table: once they have made it, on a slow host too.
        await world.waitForRows(1, 'the first rows stored');
        await repeatedly(5, spacing(6), async (round) => {
          // Forty hours, three days and more back: outside the window, for the next consumer to drop.
          const first = addTime('hour', intervalStart('hour', new Date()), -72 - round * 40);
          for (let hour = 0; hour < 40; hour++) {
            const from = addTime('hour', first, hour);
            for (const statement of sql.createPartition(partitionSuffix('hour', from), from, addTime('hour', from, 1))) {
              await world.db.query(statement);
            }
          }
          const before = await oldPartitions();
          // A consumer starting beside the two loading ones, killed while its migration holds its lock.
          const spawnedAt = new Date();
          const victim = spawnDaemon('consumer', { ...world.env, ...hourly });
          await waitFor(
            async () =>
              Number(
                (
                  await world.db.query(
                    `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                     WHERE l.locktype = 'advisory' AND l.granted AND a.backend_start >= $1`,
                    [spawnedAt],
                  )
                ).rows[0].count,
              ),
            (held) => held > 0,
            { timeoutMs: 30_000, intervalMs: 5, what: "the new consumer's migration under way" },
          );
          await victim.stop('SIGKILL');
          if ((await oldPartitions()) === before) killedMidRound++;
        });
        observed.killedMidRound = killedMidRound;
        // One more consumer that finishes its start drops them all.
        const last = spawnDaemon('consumer', { ...world.env, ...hourly });
        await last.waitForLog((line) => line.event === LOG_EVENT.tableReady);
        expect((await last.stop('SIGTERM')).code).toBe(0);
        expect(await oldPartitions(), 'old partitions left').toBe(0);
      },
    );
    expect(result.killedMidRound, 'kills that landed in the middle of a round').toBeGreaterThan(0);
  });
});
