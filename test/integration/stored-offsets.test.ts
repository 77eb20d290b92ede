/**
 * PostgreSQL keeps each partition's offset beside the rows, and is trusted over Kafka's committed
 * offsets: the offset moves in the transaction that stores its rows, a consumer starts each partition
 * where the table says and finds a table that went back under it, an existing table upgrades in place,
 * and events gone from both are reported.
 */
import { FATAL_CODES, LOG_EVENT } from '@user-actions/shared';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createPool } from '../../consumer/src/connecting/pool.js';
import { toCopyRows } from '../../consumer/src/decoding/copy-rows.js';
import { migrate } from '../../consumer/src/schema/migration.js';
import { DEFAULT_TABLE, sqlFor } from '../../consumer/src/sql/sql.js';
import { insertRows } from '../../consumer/src/writing/insert-rows.js';
import { createLogger } from '../../shared/src/logger.js';
import { type Daemon, opsPortOf, spawnDaemon } from '../support/daemon.js';
import { numberedRow } from '../support/events.js';
import { committedOffsets } from '../support/kafka.js';
import { produceAndStore } from '../support/pipeline.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld, DEFAULT_PARTITIONS, type World } from '../support/world.js';

const sql = sqlFor(DEFAULT_TABLE);

const row = numberedRow;

/** `count` more events produced, then a consumer started that stores them; `total` rows in all. */
async function produceMore(world: World, count: number, total: number): Promise<Daemon> {
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: String(count) });
  expect((await producer.exited).code).toBe(0);
  const consumer = spawnDaemon('consumer', world.env);
  await world.waitForRows(total);
  expect(await waitUntilStable(world.rowCount, { stableMs: 1_000 })).toBe(total);
  return consumer;
}

const distinctEvents = async (world: World) =>
  Number((await world.db.query('SELECT count(DISTINCT event_id) AS n FROM useractions')).rows[0].n);

describe("the partitions' offsets in PostgreSQL", () => {
  it("moves a partition's offset in its rows' transaction: a session killed between the two keeps neither", async () => {
    const world = await createWorld();
    const pool = createPool(world.databaseUrl, createLogger({ name: 'test', level: 'silent' }));
    try {
      await migrate(pool, sql, DEFAULT_PARTITIONS);
      const key = { groupId: 'group', topic: 'topic', partition: 0 };
      const first = [0, 1, 2].map(row);
      expect(await insertRows(pool, sql, toCopyRows(first), { move: { ...key, from: 0n, to: 3n } })).toEqual({
        inserted: 3,
        expired: 0,
        move: { moved: true },
      });

      // Hold the table, so that the next insert stops between its offset's move and its rows; then kill it there.
      const holder = await world.db.connect();
      onTestFinished(() => holder.release(true));
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE useractions IN SHARE MODE');
      const second = insertRows(pool, sql, toCopyRows([3, 4, 5].map(row)), { move: { ...key, from: 3n, to: 6n } });
      second.catch(() => undefined);
      const waiting = await waitFor(
        async () =>
          (
            await world.db.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%COPY%FROM STDIN'",
            )
          ).rows,
        (rows) => rows.length === 1,
        { what: 'the insert waiting for the table after moving its offset' },
      );
      await world.db.query('SELECT pg_terminate_backend($1)', [waiting[0]?.pid]);
      await expect(second).rejects.toThrow();
      await holder.query('ROLLBACK');
      expect(Number((await world.db.query('SELECT count(*) FROM useractions')).rows[0].count)).toBe(3);
      expect((await world.db.query('SELECT next_offset FROM useractions_offsets')).rows).toEqual([{ next_offset: '3' }]);

      // A batch that does not start where the table ends stores nothing and says where the table is.
      expect(await insertRows(pool, sql, toCopyRows([6, 7].map(row)), { move: { ...key, from: 6n, to: 8n } })).toEqual({
        inserted: 0,
        expired: 0,
        move: { moved: false, stored: 3n },
      });
      expect(Number((await world.db.query('SELECT count(*) FROM useractions')).rows[0].count)).toBe(3);
      // The same batch again, as after a lost commit acknowledgement: its rows are skipped, the offset found past it.
      expect(await insertRows(pool, sql, toCopyRows(first), { move: { ...key, from: 0n, to: 3n } })).toEqual({
        inserted: 0,
        expired: 0,
        move: { moved: false, stored: 3n },
      });
    } finally {
      await pool.end();
    }
  });

  it("starts each partition at PostgreSQL's offset, not Kafka's: a database restored to an earlier copy is refilled", async () => {
    const world = await createWorld();
    const { consumer } = await produceAndStore(world, world.env, 200);
    expect((await consumer.stop()).code).toBe(0);
    await world.db.query('CREATE TABLE saved AS SELECT * FROM useractions');
    await world.db.query('CREATE TABLE saved_offsets AS SELECT * FROM useractions_offsets');

    const again = await produceMore(world, 200, 400);
    expect((await again.stop()).code).toBe(0);
    // Restored to the copy: Kafka's offsets are at 400 events, PostgreSQL's at 200.
    await world.db.query('TRUNCATE useractions, useractions_offsets');
    await world.db.query('INSERT INTO useractions SELECT * FROM saved');
    await world.db.query('INSERT INTO useractions_offsets SELECT * FROM saved_offsets');

    const restarted = spawnDaemon('consumer', world.env);
    await world.waitForRows(400, 'the 200 rows the restore lost, stored again');
    expect(await waitUntilStable(world.rowCount, { stableMs: 1_000 })).toBe(400);
    expect(await distinctEvents(world)).toBe(400);
    const starts = restarted.logs.find((line) => line.event === LOG_EVENT.startingAtStoredOffsets)?.offsets;
    const saved = (await world.db.query('SELECT partition, next_offset FROM saved_offsets')).rows;
    expect(starts).toEqual(Object.fromEntries(saved.map((offset) => [String(offset.partition), offset.next_offset])));
    // Kafka's offsets follow PostgreSQL's again.
    const stored = await world.storedOffsets();
    await waitFor(
      () => committedOffsets(world.admin, world.groupId, world.topic),
      (committed) => [...stored].every(([partition, offset]) => committed.get(partition) === offset),
      { what: "Kafka's committed offsets to follow PostgreSQL's" },
    );
    expect((await restarted.stop()).code).toBe(0);
  });

  it('finds, with no new event, a table that went back under a running consumer; its lag counts the events missing until they are stored', async () => {
    const world = await createWorld();
    const { consumer } = await produceAndStore(world, world.env, 300);
    const stored = await world.storedOffsets();
    const [partition, end] = [...stored].sort(([, a], [, b]) => Number(b - a))[0] as [number, bigint];
    const metrics = async () => (await fetch(`http://127.0.0.1:${await opsPortOf(consumer)}/metrics`)).text();
    const lagOf = async () =>
      Number(
        new RegExp(`^user_actions_consumer_lag_messages\\{partition="${partition}"[^}]*\\} (\\d+)$`, 'm').exec(
          await metrics(),
        )?.[1],
      );
    // The refill waits behind this lock, so that the lag can be read while the events are missing.
    const holder = await world.db.connect();
    onTestFinished(() => holder.release(true));
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE useractions IN SHARE MODE');
    await world.db.query('UPDATE useractions_offsets SET next_offset = $1 WHERE partition = $2', [String(end - 10n), partition]);

    const behind = await consumer.waitForLog((line) => line.event === LOG_EVENT.storedOffsetBehind, 10_000);
    expect(behind).toMatchObject({ partition, storedOffset: String(end - 10n), position: String(end), events: 10 });
    expect(await lagOf()).toBe(10);
    await holder.query('ROLLBACK');
    await waitFor(lagOf, (lag) => lag === 0, { what: 'the lag back to 0 once the events are stored again' });
    expect((await world.storedOffsets()).get(partition)).toBe(end);
    expect(await world.rowCount()).toBe(300);
    expect(await metrics()).toMatch(/^user_actions_offset_moves_total\S* 1$/m);
    expect((await consumer.stop()).code).toBe(0);
  });

  it("upgrades a table without stored offsets in place: it starts from Kafka's offsets, reading nothing twice", async () => {
    const world = await createWorld();
    const { consumer } = await produceAndStore(world, world.env, 150);
    expect((await consumer.stop()).code).toBe(0);
    // As an earlier version left it: no offsets in PostgreSQL, Kafka's committed at 150 events.
    await world.db.query('DROP TABLE useractions_offsets');
    const kafkaOffsets = await committedOffsets(world.admin, world.groupId, world.topic);

    const upgraded = await produceMore(world, 150, 300);
    expect(await distinctEvents(world)).toBe(300);
    const redelivered = upgraded.logs
      .filter((line) => line.event === LOG_EVENT.loaderSummary)
      .reduce((sum, line) => sum + Number(line.redelivered ?? 0), 0);
    expect(redelivered).toBe(0);
    expect(upgraded.logs.filter((line) => line.event === LOG_EVENT.movedToStoredOffset)).toEqual([]);
    // Every partition that got events after the upgrade has its offset in PostgreSQL, past Kafka's old one.
    const stored = await world.storedOffsets();
    expect(stored.size).toBeGreaterThan(0);
    for (const [partition, offset] of stored) expect(offset).toBeGreaterThan(kafkaOffsets.get(partition) ?? 0n);
    expect((await upgraded.stop()).code).toBe(0);
  });

  it('reports events PostgreSQL lost that Kafka has deleted, and stops, or with ON_LOST_EVENTS=continue goes on', async () => {
    const world = await createWorld();
    const { consumer } = await produceAndStore(world, world.env, 300);
    expect((await consumer.stop()).code).toBe(0);
    // PostgreSQL lost everything (an old backup) while retention deleted the first 10 events of one partition.
    const stored = await world.storedOffsets();
    const [partition, end] = [...stored].sort(([, a], [, b]) => Number(b - a))[0] as [number, bigint];
    expect(end).toBeGreaterThan(10n);
    await world.db.query('TRUNCATE useractions');
    await world.db.query('UPDATE useractions_offsets SET next_offset = 0');
    await world.admin.fetchTopicMetadata({ topics: [world.topic] });
    await world.admin.deleteTopicRecords({ topic: world.topic, partitions: [{ partition, offset: '10' }] });

    const stopping = spawnDaemon('consumer', world.env);
    expect((await stopping.exited).code).toBe(1);
    expect(stopping.logs.find((line) => line.event === LOG_EVENT.eventsLost)).toMatchObject({
      topic: world.topic,
      partition,
      fromOffset: '0',
      toOffset: '9',
      events: 10,
    });
    expect(stopping.logs.find((line) => line.level === 60)).toMatchObject({
      code: FATAL_CODES.eventsLost,
      msg: expect.stringContaining(`10 events of ${world.topic} partition ${partition} (offsets 0 to 9)`),
    });

    const going = spawnDaemon('consumer', { ...world.env, ON_LOST_EVENTS: 'continue' });
    await world.waitForRows(290, 'every event Kafka still holds');
    expect(await waitUntilStable(world.rowCount, { stableMs: 1_000 })).toBe(290);
    const metrics = await (await fetch(`http://127.0.0.1:${await opsPortOf(going)}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`^user_actions_events_lost_total\\{partition="${partition}"[^}]*\\} 10$`, 'm'));
    expect((await world.storedOffsets()).get(partition)).toBe(end);
    expect((await going.stop()).code).toBe(0);
  });

  it('stores through several hosts in DATABASE_URL, skipping one that does not answer', async () => {
    const world = await createWorld();
    const url = new URL(world.databaseUrl);
    const env = { ...world.env, DATABASE_URL: world.databaseUrl.replace(url.host, `127.0.0.1:1,${url.host}`) };
    const { consumer } = await produceAndStore(world, env, 50);
    expect((await consumer.stop()).code).toBe(0);
  });
});
