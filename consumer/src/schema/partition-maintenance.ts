/**
 * Keeps the table's partitions: made ahead of the clock, and dropped once wholly older than the
 * retention window; at start (in the migration) and then every MAINTENANCE_EVERY_MS while the consumer
 * loads. Consumers maintaining at once take turns on an advisory lock (one that does not get it skips
 * the round). A partition is made without waiting for loading (sql.ts); a drop needs the table to
 * itself for an instant and waits at most LOCK_WAIT_MS for it, so loading never queues long behind a
 * drop that waits for a long transaction: that drop is left to the next round.
 */
import { ClassifiedError, classify, codeOf, type Logger } from '@user-actions/shared';
import { postgresVerdict, SQLSTATE } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';
import type { Pool } from '../connecting/pool.js';
import { HISTORY_SUFFIX, type TableSql, TRY_LOCK_PARTITIONS } from '../sql/sql.js';
import { partitionSuffix, partitionsToMake, type Retention, retentionCutoff, type TimeUnit } from './partition-layout.js';

export interface PartitionPolicy {
  unit: TimeUnit;
  /** Unset: keep everything. */
  retention?: Retention;
}

export const MAINTENANCE_EVERY_MS = 10 * 60_000;
const LOCK_WAIT_MS = 2_000;

export interface MaintenanceResult {
  created: string[];
  dropped: string[];
  /** With a retention: the start of the window, before which partitions were dropped. */
  cutoff?: Date;
}

interface Partition {
  name: string;
  /** Undefined: from the beginning of time. */
  from?: Date;
  to: Date;
}

const BOUND = /^FOR VALUES FROM \((MINVALUE|'[^']+')\) TO \('([^']+)'\)$/;

/** A bound as PostgreSQL prints it in UTC (`2026-12-01 00:00:00+00`) as a Date. */
function parseTimestamp(text: string): Date {
  const [date, time, zone] = text.replace(/^'|'$/g, '').split(/ |(?=[+-]\d\d$)/);
  return new Date(`${date}T${time}${zone === '+00' ? 'Z' : `${zone}:00`}`);
}

/** The partitions this module made (a DEFAULT partition, or one bounded some other way, is not ours). */
function parsePartitions(rows: { name: string; bound: string }[]): Partition[] {
  return rows.flatMap(({ name, bound }) => {
    const match = BOUND.exec(bound);
    if (!match) return [];
    const [, from, to] = match as unknown as [string, string, string];
    return [{ name, ...(from === 'MINVALUE' ? {} : { from: parseTimestamp(from) }), to: parseTimestamp(to) }];
  });
}

/**
 * One round, in the caller's transaction; undefined when another consumer holds the round. A table
 * without partitions (just created) and without a retention window first gets the history partition,
 * for everything before the current interval; with a window, its partitions start where the window
 * does, and an older event has no partition: it is counted as expired (db.ts).
 */
export async function maintainIn(
  client: pg.ClientBase,
  sql: TableSql,
  policy: PartitionPolicy,
  now: Date,
): Promise<MaintenanceResult | undefined> {
  await client.query(`SET LOCAL lock_timeout = ${LOCK_WAIT_MS}`);
  await client.query(`SET LOCAL TimeZone = 'UTC'`);
  const { rows: locks } = await client.query<{ locked: boolean }>(TRY_LOCK_PARTITIONS);
  if (!locks[0]?.locked) return undefined;
  const partitions = parsePartitions((await client.query<{ name: string; bound: string }>(sql.partitions)).rows);
  const cutoff = policy.retention && retentionCutoff(policy.retention, now);
  const newestEnd = partitions.reduce<Date | undefined>((newest, { to }) => (newest && newest > to ? newest : to), undefined);
  const ranges = partitionsToMake(policy.unit, { newestEnd, now, ...(cutoff && { cutoff }) });
  const created: string[] = [];
  if (partitions.length === 0 && cutoff === undefined && ranges[0]) {
    for (const statement of sql.createPartition(HISTORY_SUFFIX, undefined, ranges[0].from)) await client.query(statement);
    created.push(sql.partitionName(HISTORY_SUFFIX));
  }
  for (const { from, to } of ranges) {
    const suffix = partitionSuffix(policy.unit, from);
    for (const statement of sql.createPartition(suffix, from, to)) await client.query(statement);
    created.push(sql.partitionName(suffix));
  }
  const expired = cutoff === undefined ? [] : partitions.filter(({ to }) => to <= cutoff);
  const dropped: string[] = [];
  for (const { name, from, to } of expired) {
    // A drop that cannot have the table within LOCK_WAIT_MS (a long transaction) leaves the rest
    // to the next round: each wait holds up loading for as long.
    await client.query('SAVEPOINT drop_partition');
    try {
      await client.query(sql.dropPartition(name));
      // The tallies forget the minutes that partition held.
      await client.query(sql.tallies.forgetMinutes, [from ?? '-infinity', to]);
      dropped.push(name);
    } catch (error) {
      if (codeOf(error) !== SQLSTATE.lockNotAvailable) throw error;
      await client.query('ROLLBACK TO SAVEPOINT drop_partition');
      break;
    }
  }
  return { created, dropped, ...(cutoff && { cutoff }) };
}

/** One round in a transaction of its own. */
export async function maintainPartitions(
  client: pg.ClientBase,
  sql: TableSql,
  policy: PartitionPolicy,
  now: Date,
): Promise<MaintenanceResult | undefined> {
  await client.query('BEGIN');
  try {
    const result = await maintainIn(client, sql, policy, now);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/** What a round did, for the log and the metrics. */
export function reportMaintenance(
  result: MaintenanceResult | undefined,
  logger: Logger,
  counters: { created(count: number): void; dropped(count: number): void },
): void {
  if (result === undefined) return;
  if (result.created.length > 0) logger.info({ partitions: result.created }, 'made partitions');
  if (result.dropped.length > 0) {
    logger.info(
      { partitions: result.dropped, before: result.cutoff?.toISOString() },
      'dropped partitions wholly older than DATABASE_RETENTION',
    );
  }
  counters.created(result.created.length);
  counters.dropped(result.dropped.length);
}

/** Runs a round every `everyMs` until stopped; a failed round is logged and tried again at the next. */
export function startPartitionMaintenance(options: {
  pool: Pool;
  sql: TableSql;
  policy: PartitionPolicy;
  logger: Logger;
  counters: { created(count: number): void; dropped(count: number): void };
  everyMs?: number;
  clock?: () => Date;
}): { stop(): Promise<void> } {
  const { pool, sql, policy, logger, counters, everyMs = MAINTENANCE_EVERY_MS, clock = () => new Date() } = options;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = async () => {
    try {
      reportMaintenance(
        await pool.guard.run('batch', (client) => maintainPartitions(client, sql, policy, clock())),
        logger,
        counters,
      );
    } catch (caught) {
      const error = classify(caught, postgresVerdict);
      // Partitions exist INTERVALS_AHEAD ahead: a round missed costs nothing yet.
      // A transient failure is known and named by its reason; anything else is logged whole, stack and cause.
      if (error instanceof ClassifiedError && error.retryable) {
        logger.warn({ reason: error.message, retryInMs: everyMs }, 'partition maintenance failed; tried again at the next round');
      } else {
        logger.error({ err: error, retryInMs: everyMs }, 'partition maintenance failed; tried again at the next round');
      }
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      round = run().finally(() => stopped || schedule());
    }, everyMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
