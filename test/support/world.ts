/**
 * Every integration test owns its world: a fresh database, topic and consumer group, all removed when
 * the test ends. Tests reach the real broker and server that the global setup found or started.
 */
import { randomBytes } from 'node:crypto';
import type { StoredRow } from '@user-actions/shared/event/columns';
import { parseDatabaseHosts, poolForHosts } from '@user-actions/shared/postgres/database-hosts';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { inject, onTestFinished } from 'vitest';
import { loadConsumerConfig } from '../../consumer/src/config.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { readStoredOffsets } from '../../consumer/src/writing/offsets.js';
import { waitFor } from './wait.js';

export type { StoredRow } from '@user-actions/shared/event/columns';

/** The table's layout when nothing is configured: what the consumer makes by default. */
export const DEFAULT_PARTITIONS = loadConsumerConfig({}).partitions;

export interface World {
  readonly topic: string;
  readonly groupId: string;
  readonly databaseUrl: string;
  /** The environment a daemon needs to work in this world. */
  readonly env: Record<string, string>;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly db: pg.Pool;
  rows(): Promise<StoredRow[]>;
  rowCount(): Promise<number>;
  /** The group's offsets PostgreSQL keeps beside the rows (the consumer's truth), by partition. */
  storedOffsets(): Promise<Map<number, bigint>>;
  /** Resolves once at least `count` rows are stored (`what` names them in a timeout's message). */
  waitForRows(count: number, what?: string): Promise<number>;
  /** The table and each of its partitions, and how many indexes each has that lead with `("timestamp", id)`. */
  timeIndexes(): Promise<Record<string, number>>;
  /** The minutes and actions whose per-minute tally disagrees with the events stored (none, always). */
  untallied(): Promise<string[]>;
}

export interface Services {
  /** A PostgreSQL role that may CREATE DATABASE. */
  databaseUrl: string;
  /** Comma-separated host:port list. */
  kafkaBrokers: string;
}

/** A world on the services the global setup found, or on the ones given. */
export async function createWorld(services?: Services): Promise<World> {
  const id = randomBytes(5).toString('hex');
  const topic = `test-user-actions-${id}`;
  const groupId = `test-loader-${id}`;
  const database = `test_user_actions_${id}`;
  const adminUrl = services?.databaseUrl ?? inject('databaseUrl');
  const brokers = services?.kafkaBrokers ?? inject('kafkaBrokers');

  await runAsAdmin(adminUrl, `CREATE DATABASE ${database}`);
  const databaseUrl = withDatabase(adminUrl, database);
  const db = poolFor(databaseUrl, 2);
  const kafka = new Kafka({ clientId: `test-${id}`, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();

  onTestFinished(async () => {
    await db.end();
    // The test's topic and the daemons' dead-letter topic, where they were created. A test that took
    // its broker away with it leaves nothing to delete.
    await deleteTopicsOf(admin, topic).catch(() => undefined);
    await admin.disconnect();
    await runAsAdmin(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  return {
    topic,
    groupId,
    databaseUrl,
    env: {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: groupId,
      KAFKA_TOPIC_PARTITIONS: '6',
      DATABASE_URL: databaseUrl,
      LOG_SUMMARY_INTERVAL_MS: '500',
    },
    kafka,
    admin,
    db,
    rows: async () => (await db.query<StoredRow>('SELECT * FROM useractions ORDER BY id')).rows,
    rowCount: () => countRows(db),
    storedOffsets: () => readStoredOffsets(db, sqlFor(DEFAULT_TABLE), groupId, topic),
    waitForRows: (count, what = `${count} rows`) =>
      waitFor(
        () => countRows(db),
        (rows) => rows >= count,
        { what },
      ),
    timeIndexes: () => timeIndexesOf(db),
    untallied: () => untalliedIn(db),
  };
}

async function untalliedIn(db: pg.Pool): Promise<string[]> {
  const { rows } = await db.query<{ minute: string; action: string; stored: number; tallied: number }>(`
    SELECT minute, action, coalesce(e.stored, 0)::int AS stored, coalesce(t.tallied, 0)::int AS tallied
    FROM (SELECT date_trunc('minute', "timestamp", 'UTC') AS minute, action, count(*) AS stored FROM useractions GROUP BY 1, 2) AS e
    FULL JOIN (SELECT minute, action, sum(events) AS tallied FROM useractions_per_minute GROUP BY 1, 2) AS t USING (minute, action)
    WHERE coalesce(e.stored, 0) <> coalesce(t.tallied, 0)`);
  return rows.map(({ minute, action, stored, tallied }) => `${minute} ${action}: ${stored} stored, ${tallied} tallied`);
}

async function timeIndexesOf(db: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await db.query<{ relation: string; indexed: number }>(`
    SELECT c.relname AS relation,
           (SELECT count(*)::int FROM pg_index i WHERE i.indrelid = c.oid
            AND pg_get_indexdef(i.indexrelid) LIKE '%("timestamp", id)') AS indexed
    FROM pg_class c
    WHERE c.oid = 'useractions'::regclass
       OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'useractions'::regclass)`);
  return Object.fromEntries(rows.map(({ relation, indexed }) => [relation, indexed]));
}

async function countRows(db: pg.Pool): Promise<number> {
  try {
    const result = await db.query<{ count: string }>('SELECT count(*) FROM useractions');
    return Number(result.rows[0]?.count ?? 0);
  } catch (error) {
    // Before the consumer has created the table there is nothing stored yet.
    if ((error as { code?: string }).code === '42P01') return 0;
    throw error;
  }
}

async function deleteTopicsOf(admin: Admin, topic: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((name) => name === topic || name.startsWith(`${topic}.`));
  if (topics.length > 0) await admin.deleteTopics({ topics });
}

/** The URL with another database; it may name several hosts, which the URL class cannot parse. */
export function withDatabase(url: string, database: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*)(\/[^?#]*)?/, `$1/${database}`);
}

/** A pool on DATABASE_URL as the consumer reads it: with several hosts, on the writable one. */
export function poolFor(url: string, max: number): pg.Pool {
  const hosts = parseDatabaseHosts(url);
  if (typeof hosts === 'string') throw new Error(`${url} ${hosts}`);
  const pool = poolForHosts(hosts, { max });
  // An idle connection to a server a test killed: the next query opens another.
  pool.on('error', () => undefined);
  return pool;
}

async function runAsAdmin(url: string, sql: string): Promise<void> {
  const pool = poolFor(url, 1);
  try {
    await pool.query(sql);
  } finally {
    await pool.end();
  }
}
