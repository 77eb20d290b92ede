import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { spawnDaemon } from '../support/daemon.js';
import { createTopic, produceRaw } from '../support/kafka.js';
import { waitFor, waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

const KEY = 'one-partition-for-all'; // same key: all messages on one partition, in this order

function validEvent() {
  return JSON.stringify({
    EventId: randomUUID(),
    UserId: randomUUID(),
    Action: 'Login',
    Metadata: { IpAddress: '10.0.0.1', Device: 'Firefox on Linux' },
    Timestamp: new Date().toISOString(),
  });
}

it('skips invalid messages with a logged reason and stores the valid ones around them', async () => {
  const world = await createWorld();
  await createTopic(world.admin, world.topic);
  const invalid = [
    'this is not JSON',
    JSON.stringify({ UserId: 'not-a-uuid', Action: 'Login', Timestamp: '2024-01-15T10:30:00Z' }),
    JSON.stringify({ UserId: randomUUID(), Action: 'Teleport', Timestamp: '2024-01-15T10:30:00Z' }),
  ];
  const messages = [validEvent(), invalid[0], validEvent(), invalid[1], invalid[2], validEvent()].map((value) => ({
    key: KEY,
    value: value ?? '',
  }));
  await produceRaw(world.kafka, world.topic, messages);

  const consumer = spawnDaemon('consumer', world.env);
  await waitFor(world.rowCount, (count) => count >= 3, { what: 'the three valid events' });

  const rejections = consumer.logs.filter((line) => line.msg === 'rejected a message that is not a valid user action');
  expect(rejections.map((line) => [line.offset, line.reason])).toEqual([
    ['1', expect.stringContaining('not valid JSON')],
    ['3', expect.stringContaining('UserId')],
    ['4', expect.stringContaining('Action')],
  ]);
  expect(rejections.every((line) => typeof line.partition === 'number')).toBe(true);

  // Still consuming: a later event is stored too.
  await produceRaw(world.kafka, world.topic, [{ key: KEY, value: validEvent() }]);
  await waitFor(world.rowCount, (count) => count >= 4, { what: 'the event sent after the invalid ones' });
  expect(await waitUntilStable(world.rowCount)).toBe(4);
  expect((await consumer.stop()).code).toBe(0);
});
