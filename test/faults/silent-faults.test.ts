/**
 * Faults that make no noise: packets dropped with iptables (connections are neither refused nor reset;
 * what is sent never arrives, as in a partition, a frozen host or a NAT that forgot its flows), and a
 * disk that fills up. Each is survived with nothing lost or stored twice, `/readyz` saying which
 * dependency is wrong while it lasts, and the pipeline recovering within its own timeouts.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FATAL_CODES, LOG_EVENT } from '@user-actions/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_TIMEOUTS, SILENCE_GRACE_MS } from '../../consumer/src/connecting/connection-guard.js';
import { APPLICATION_NAME } from '../../consumer/src/connecting/pool.js';
import { CONDITIONS } from '../../consumer/src/readiness-conditions.js';
import { spawnDaemon } from '../support/daemon.js';
import { createPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { waitFor } from '../support/wait.js';
import type { World } from '../support/world.js';
import { createKafkaBrokers, type KafkaBrokers } from './kafka-brokers.js';
import { clientPortsOf, createPacketDrops, type PacketDrops, type Silence } from './packet-drops.js';
import { watchReadiness } from './readiness-watch.js';
import type { ScenarioContext } from './scenario.js';
import { createSuite, FULL, spacing } from './suite.js';

const POSTGRES_PORT = 25462;
const KAFKA_PORT = 24292;
/** The consumers reach PostgreSQL at a second loopback address, so that they alone can be cut from it. */
const CONSUMERS_HOST = '127.0.0.2';
const SHORT_SILENCE_MS = 20_000;
/** Longer than every timeout of the consumer (statement, silence, connect), and than the session timeout. */
const LONG_SILENCE_MS = FULL ? 180_000 : 60_000;
/** How long the consumers' own connections stay silent: the server's side is never told. */
const FORGOTTEN_FLOWS_MS = FULL ? 200_000 : 70_000;
/** A consumer with silent connections is storing again within its timeouts, well before the silence ends. */
const RESUME_WITHIN_MS = DEFAULT_DATABASE_TIMEOUTS.statementMs + SILENCE_GRACE_MS + DEFAULT_DATABASE_TIMEOUTS.connectMs + 15_000;

let postgres: PostgresServer;
let kafka: KafkaBrokers;
let drops: PacketDrops;
let smallDisk: string | undefined;
const { scenario, printTable } = createSuite(() => ({ postgres, kafka }));

beforeAll(async () => {
  drops = createPacketDrops();
  postgres = createPostgresServer(POSTGRES_PORT, {
    settings: [`listen_addresses = '127.0.0.1,${CONSUMERS_HOST}'`],
    hba: 'local all all trust\nhost all all 127.0.0.0/8 trust\n',
  });
  postgres.start();
  kafka = createKafkaBrokers(1, KAFKA_PORT);
  await kafka.startAll();
});

afterAll(async () => {
  printTable('Silent networks and a full disk');
  drops?.remove();
  await kafka?.destroy();
  postgres?.destroy();
  if (smallDisk !== undefined) {
    execFileSync('umount', [smallDisk]);
    rmSync(smallDisk, { recursive: true, force: true });
  }
});

/** The world's database at the consumers' own address. */
const viaConsumersHost = (world: World) => ({
  DATABASE_URL: world.databaseUrl.replace(`127.0.0.1:${POSTGRES_PORT}`, `${CONSUMERS_HOST}:${POSTGRES_PORT}`),
});

/**
 * Keeps `silence` in force for `lasts` ms (or until `lasts` resolves) while watching the consumers' readiness, then lifts it (also on a
 * failure); `/readyz` must have named `dependency` meanwhile.
 */
async function whileSilent(
  context: ScenarioContext,
  silence: Silence,
  lasts: number | (() => Promise<void>),
  dependency: string,
): Promise<void> {
  const watch = watchReadiness(context.fleet);
  try {
    await (typeof lasts === 'number' ? sleep(lasts) : lasts());
  } finally {
    silence.lift();
  }
  const seen = await watch.stop();
  context.observed.notReady = [...new Set(seen.map((condition) => condition.dependency))].join(', ');
  expect(
    seen.some((condition) => condition.dependency.startsWith(dependency)),
    `/readyz named ${dependency} during the fault: ${JSON.stringify(seen)}`,
  ).toBe(true);
}

describe.sequential(`silent networks and a full disk (${FULL ? 'full' : 'CI'} size)`, () => {
  it('14. PostgreSQL silent for 20 s', async () => {
    await scenario('PostgreSQL silent 20 s', { consumerEnv: viaConsumersHost }, async (context) => {
      await sleep(spacing(3));
      const silence = drops.silencePort(POSTGRES_PORT, ['127.0.0.1', CONSUMERS_HOST]);
      await whileSilent(context, silence, SHORT_SILENCE_MS, 'postgres');
    });
  });

  it('15. PostgreSQL silent to both consumers for longer than their timeouts, Kafka up', async () => {
    await scenario(
      `PostgreSQL silent to both consumers ${LONG_SILENCE_MS / 1000} s`,
      { consumerEnv: viaConsumersHost },
      async (context) => {
        await sleep(spacing(3));
        const silence = drops.silencePort(POSTGRES_PORT, [CONSUMERS_HOST]);
        await whileSilent(context, silence, LONG_SILENCE_MS, 'postgres');
      },
    );
  });

  it("16. the consumers' established PostgreSQL connections go silent, new ones pass", async () => {
    await scenario(
      `consumers' PostgreSQL flows forgotten ${FORGOTTEN_FLOWS_MS / 1000} s`,
      { consumerEnv: viaConsumersHost },
      async (context) => {
        const { world, observed } = context;
        await sleep(spacing(3));
        const { rows } = await world.db.query<{ client_port: number }>(
          'SELECT client_port FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
          [APPLICATION_NAME],
        );
        expect(rows.length, "the consumers' connections").toBeGreaterThan(0);
        const silence = drops.silenceConnections(
          POSTGRES_PORT,
          rows.map((row) => row.client_port),
        );
        const startedAt = Date.now();
        const silent = whileSilent(context, silence, FORGOTTEN_FLOWS_MS, 'postgres');
        const before = await world.rowCount();
        await waitFor(world.rowCount, (count) => count > before, {
          timeoutMs: RESUME_WITHIN_MS,
          intervalMs: 250,
          what: 'rows stored again while the old connections are silent',
        });
        observed.resumedAfterSeconds = Math.round((Date.now() - startedAt) / 100) / 10;
        await silent;
      },
    );
  });

  it('17. Kafka silent for 20 s', async () => {
    await scenario('Kafka silent 20 s', {}, async (context) => {
      await sleep(spacing(3));
      const silence = drops.silencePort(KAFKA_PORT);
      await whileSilent(context, silence, SHORT_SILENCE_MS, 'kafka');
    });
  });

  it("18. one consumer's Kafka connections silent past the session timeout: the other takes over", async () => {
    await scenario("one consumer's Kafka flows forgotten ≥ 45 s", {}, async (context) => {
      await sleep(spacing(3));
      const victim = context.fleet.running[0];
      const ports = victim ? clientPortsOf(victim.pid, KAFKA_PORT) : [];
      expect(ports.length, "the consumer's broker connections").toBeGreaterThan(0);
      const other = context.fleet.running[1];
      if (other === undefined || victim === undefined) throw new Error('the scenario runs two consumers');
      const taken = other.logs.length;
      // Silent for 45 s at least, and until the group has moved the silent consumer's partitions to the other.
      const rejoined = other.waitForLog(
        (line) => line.msg === 'joined consumer group' && other.logs.indexOf(line) >= taken,
        120_000,
      );
      await whileSilent(
        context,
        drops.silenceConnections(KAFKA_PORT, ports),
        async () => {
          await Promise.all([sleep(45_000), rejoined]);
        },
        'kafka',
      );
      // The fault ends when the silent consumer hears from its broker again, which TCP's backed-off
      // retransmissions can delay by tens of seconds: stopped before that, it would wait for its requests
      // in flight past the shutdown grace. Heard for longer than its watchdog waits, to be sure.
      const answeringSince = () => {
        const last = victim.logs.findLast(
          (line) =>
            line.dependency === CONDITIONS.kafkaAnswers &&
            (line.event === LOG_EVENT.readyAgain || line.event === LOG_EVENT.notReady),
        );
        return last?.event === LOG_EVENT.readyAgain ? Number(last.time) : undefined;
      };
      await waitFor(answeringSince, (since) => since !== undefined && Date.now() - since > 8_000, {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: 'the silent consumer to hear from its broker again',
      });
    });
  });

  it("19. PostgreSQL's disk full: consumers wait, a consumer with a short MAX_OUTAGE_MS exits 1", async () => {
    smallDisk = mkdtempSync(join(tmpdir(), 'user-actions-small-disk-'));
    // Room for the rows of a full-size run once the filler is gone: it fills whatever is left anyway.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', smallDisk]);
    const location = join(smallDisk, 'tablespace');
    mkdirSync(location);
    chownSync(location, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), 0);
    await scenario("PostgreSQL's disk full 20 s", {}, async (context) => {
      const { world, fleet } = context;
      // A third member of the group from the start, outside the fleet: it is meant to exit 1.
      const impatient = spawnDaemon('consumer', { ...world.env, MAX_OUTAGE_MS: '5000' });
      await sleep(spacing(4));
      await world.db.query(`CREATE TABLESPACE small_disk LOCATION '${location}'`);
      // The partitions hold the rows (the parent only names where new ones go): every one moves.
      const { rows: partitions } = await world.db.query<{ name: string }>(
        `SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'useractions'::regclass`,
      );
      expect(partitions.length).toBeGreaterThan(0);
      for (const { name } of partitions) await world.db.query(`ALTER TABLE ${name} SET TABLESPACE small_disk`);
      const filler = fillUp(smallDisk as string);
      const fullSince = Date.now();
      const watch = watchReadiness(fleet);
      try {
        const exit = await Promise.race([impatient.exited, sleep(60_000).then(() => undefined)]);
        expect(exit?.code, 'exit code of the consumer with MAX_OUTAGE_MS=5000').toBe(1);
        expect(impatient.logs.filter((line) => line.level >= 50).map((line) => line.code)).toEqual([FATAL_CODES.outage]);
        await sleep(Math.max(0, SHORT_SILENCE_MS - (Date.now() - fullSince)));
      } finally {
        rmSync(filler);
      }
      const seen = await watch.stop();
      context.observed.notReady = [...new Set(seen.map((condition) => condition.dependency))].join(', ');
      expect(
        seen.some((condition) => condition.reason.includes('disk is full')),
        `/readyz said the disk is full: ${JSON.stringify(seen)}`,
      ).toBe(true);
    });
  });
});

/** Fills the file system at `dir` to the last byte with one file, and returns its path. */
function fillUp(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  try {
    for (const size of [1 << 20, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
