import { FATAL_CODES, LOG_EVENT } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { onOnePartition, userAction } from '../support/events.js';
import { committedOffsets, createTopic, produceRaw, readTopic } from '../support/kafka.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const dlqOf = (topic: string) => `${topic}.dlq`;

describe('dead letters', () => {
  it('sends invalid messages to the dead-letter topic with the reason, and stores the valid ones around them', async () => {
    const world = await createWorld();
    await createTopic(world.admin, world.topic);
    const messages = onOnePartition([
      userAction(),
      'this is not JSON',
      userAction(),
      { ...userAction(), UserId: 'not-a-uuid' },
      { ...userAction(), Action: 'Teleport' },
      userAction(),
    ]);
    await produceRaw(world.kafka, world.topic, messages);

    const consumer = spawnDaemon('consumer', world.env);
    await world.waitForRows(3, 'the three valid events');
    const deadLetters = await waitFor(
      () => readTopic(world.kafka, world.admin, dlqOf(world.topic)),
      (found) => found.length >= 3,
      { what: 'three dead letters' },
    );
    expect(deadLetters.map((message) => [message.key, message.value])).toEqual(
      [1, 3, 4].map((index) => [messages[index]?.key, messages[index]?.value]),
    );
    const [notJson, badUser, badAction] = deadLetters.map((message) => message.headers);
    expect(notJson?.['dlq.error']).toContain('not valid JSON');
    expect(badUser?.['dlq.error']).toContain('UserId');
    expect(badAction?.['dlq.error']).toContain('Action');
    expect(notJson).toMatchObject({ 'dlq.stage': 'decode', 'dlq.source.topic': world.topic, 'dlq.source.offset': '1' });
    expect(Number.isNaN(Date.parse(notJson?.['dlq.time'] ?? ''))).toBe(false);

    // Still consuming: a later event is stored too, and the offsets pass the dead letters.
    await produceRaw(world.kafka, world.topic, onOnePartition([userAction()]));
    await world.waitForRows(4, 'the event sent after the invalid ones');
    expect(await waitUntilStable(world.rowCount)).toBe(4);
    const partition = deadLetters[0] ? Number(deadLetters[0].headers['dlq.source.partition']) : -1;
    await waitFor(
      () => committedOffsets(world.admin, world.groupId, world.topic),
      (committed) => committed.get(partition) === 7n,
      { what: 'the offset committed past every message' },
    );
    expect((await consumer.stop()).code).toBe(0);
  });

  it('isolates a row PostgreSQL refuses and stores the rest of its batch', async () => {
    const world = await createWorld();
    await createTopic(world.admin, world.topic);
    // Valid for the schema, but PostgreSQL has no year 0.
    const refused = userAction({ Timestamp: '0000-01-01T00:00:00Z' });
    const good = Array.from({ length: 9 }, () => userAction());
    await produceRaw(world.kafka, world.topic, onOnePartition([...good.slice(0, 4), refused, ...good.slice(4)]));

    const consumer = spawnDaemon('consumer', world.env);
    await world.waitForRows(9, 'the nine storable events');
    const [deadLetter] = await waitFor(
      () => readTopic(world.kafka, world.admin, dlqOf(world.topic)),
      (found) => found.length >= 1,
      { what: 'the refused row dead-lettered' },
    );
    expect(deadLetter?.value).toBe(JSON.stringify(refused));
    expect(deadLetter?.headers).toMatchObject({ 'dlq.stage': 'store', 'dlq.source.offset': '4' });
    expect(deadLetter?.headers['dlq.error']).toMatch(/PostgreSQL: .*out of range/);
    const stored = new Set((await world.rows()).map((row) => row.event_id));
    expect(stored).toEqual(new Set(good.map((event) => event.EventId)));
    expect((await consumer.stop()).code).toBe(0);
  });

  it('stops the consumer, with nothing committed, when most messages are dead letters (a wrong topic)', async () => {
    const world = await createWorld();
    await createTopic(world.admin, world.topic);
    const garbage = Array.from({ length: 300 }, (_, index) => `{"Order": ${index}}`);
    await produceRaw(world.kafka, world.topic, onOnePartition(garbage));

    const consumer = spawnDaemon('consumer', { ...world.env, DLQ_MAX_RATIO: '0.5', DLQ_RATIO_WINDOW: '200' });
    const exit = await consumer.exited;
    expect(exit.code).toBe(1);
    const fatal = consumer.logs.find((line) => line.level === 60);
    expect(fatal?.msg).toContain('DLQ_MAX_RATIO');
    expect(fatal?.code).toBe(FATAL_CODES.deadLetterGuard);
    const committed = await committedOffsets(world.admin, world.groupId, world.topic);
    expect([...committed.values()].every((offset) => offset < 300n)).toBe(true);
  });

  it('replays dead letters after a fix, storing each once however often the replay runs', async () => {
    const world = await createWorld();
    await createTopic(world.admin, world.topic);
    const consumer = spawnDaemon('consumer', world.env);
    await consumer.waitForLog((line) => line.event === LOG_EVENT.tableReady);
    // An operator's rule that turns out to be wrong: PostgreSQL refuses every Like.
    await world.db.query(`ALTER TABLE useractions ADD CONSTRAINT no_likes CHECK (action <> 'Like')`);
    const { EventId: _, ...seedFormatLike } = userAction({ Action: 'Like' });
    const likes = [userAction({ Action: 'Like' }), seedFormatLike];
    await produceRaw(world.kafka, world.topic, onOnePartition([userAction(), ...likes, userAction()]));
    await waitFor(
      () => readTopic(world.kafka, world.admin, dlqOf(world.topic)),
      (found) => found.length >= 2,
      { what: 'both likes dead-lettered' },
    );
    expect(await waitUntilStable(world.rowCount)).toBe(2);

    await world.db.query('ALTER TABLE useractions DROP CONSTRAINT no_likes');
    const replay = spawnDaemon('dlq-replay', world.env);
    expect((await replay.exited).code).toBe(0);
    expect(replay.logs.find((line) => line.event === LOG_EVENT.deadLettersReplayed)?.replayed).toBe(2);
    await world.waitForRows(4, 'the replayed likes stored');
    expect(await waitUntilStable(world.rowCount)).toBe(4);

    // A replay that runs again from the start (its group reset) sends both again: still stored once,
    // the seed-format like (no EventId) keeping the id derived from its first position.
    await world.admin.resetOffsets({ groupId: `${world.groupId}.dlq-replay`, topic: dlqOf(world.topic), earliest: true });
    const again = spawnDaemon('dlq-replay', world.env);
    expect((await again.exited).code).toBe(0);
    await consumer.waitForLog((line) => line.event === LOG_EVENT.loaderSummary && line.redelivered === 2);
    expect(await waitUntilStable(world.rowCount)).toBe(4);
    expect((await world.rows()).filter((row) => row.action === 'Like')).toHaveLength(2);
    expect((await consumer.stop()).code).toBe(0);
  });
});
