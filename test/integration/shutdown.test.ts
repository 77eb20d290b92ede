import { spawn } from 'node:child_process';
import { LOG_EVENT } from '@user-actions/shared';
import { expect, it } from 'vitest';
import { spawnDaemon, spawnThroughNpm } from '../support/daemon.js';
import { committedOffsets, readTopic } from '../support/kafka.js';
import { processIsRunning } from '../support/processes.js';
import { waitUntilStable } from '../support/wait.js';
import { createWorld } from '../support/world.js';

it('SIGTERM to the producer: exit 0, and every event it reported sent is in the topic', async () => {
  const world = await createWorld();
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '1' });
  // A summary of events sent: the first one can come while the producer still connects.
  await producer.waitForLog((line) => line.event === LOG_EVENT.producerSummary && Number(line.sent) > 0);

  const exit = await producer.stop('SIGTERM');
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(10_000);
  const reported = await producer.waitForLog((line) => line.event === LOG_EVENT.stoppedGenerating);
  const inTopic = await readTopic(world.kafka, world.admin, world.topic);
  expect(inTopic.length).toBeGreaterThan(0);
  expect(inTopic).toHaveLength(Number(reported.sent));
});

it('SIGTERM to the consumer mid-stream: exit 0, nothing committed that is not stored, nothing stored twice after a restart', async () => {
  const world = await createWorld();
  const total = 4000;
  const producer = spawnDaemon('producer', { ...world.env, PRODUCER_INTERVAL_MS: '1', PRODUCER_COUNT: String(total) });
  const consumer = spawnDaemon('consumer', world.env);
  await world.waitForRows(500, 'the consumer to be busy');

  const exit = await consumer.stop('SIGTERM');
  expect(exit.code).toBe(0);
  expect(exit.ms).toBeLessThan(10_000);
  expect((await producer.exited).code).toBe(0);

  // Every message below a committed offset has its row.
  const committed = await committedOffsets(world.admin, world.groupId, world.topic);
  const stored = new Set((await world.rows()).map((row) => row.event_id));
  const messages = await readTopic(world.kafka, world.admin, world.topic);
  const committedButMissing = messages.filter((message) => {
    const position = committed.get(message.partition) ?? -1n;
    return BigInt(message.offset) < position && !stored.has(JSON.parse(message.value ?? '{}').EventId);
  });
  expect(committedButMissing).toEqual([]);
  expect(stored.size).toBeLessThan(total);

  const restarted = spawnDaemon('consumer', world.env);
  await world.waitForRows(total, `${total} rows after the restart`);
  expect(await waitUntilStable(world.rowCount)).toBe(total);
  const { rows } = await world.db.query<{ distinct: string }>('SELECT count(DISTINCT event_id) AS distinct FROM useractions');
  expect(Number(rows[0]?.distinct)).toBe(total);
  expect((await restarted.stop()).code).toBe(0);
});

it.each(['producer', 'consumer'] as const)(
  'SIGTERM to the %s while it is still loading: a graceful stop with exit 0, not death by signal',
  async (name) => {
    const world = await createWorld();
    // Once Node.js runs JavaScript (before that no program can hold a signal) and well before the
    // daemon's modules have loaded, which takes several times as long as Node.js' own start.
    const delayMs = Math.max(150, 2 * (await nodeStartMs()));
    const daemon = spawnDaemon(name, world.env);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    const exit = await daemon.stop('SIGTERM');
    expect(exit, `SIGTERM ${delayMs} ms after the start`).toMatchObject({ code: 0, signal: null });
    expect(daemon.logs.map((line) => line.event)).toContain(LOG_EVENT.stopped);
  },
);

it.each(['consumer', 'producer'] as const)(
  'SIGTERM to npm running `npm run %s` stops the daemon gracefully: exit 0, nothing left running',
  async (script) => {
    const world = await createWorld();
    const daemon = spawnThroughNpm(script, { ...world.env, PRODUCER_INTERVAL_MS: '10' });
    const started = await daemon.waitForLog(
      (line) => line.event === (script === 'consumer' ? LOG_EVENT.consuming : LOG_EVENT.connectedToKafka),
    );
    const exit = await daemon.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(daemon.logs.at(-1)?.event).toBe(LOG_EVENT.stopped);
    expect(processIsRunning(Number(started.pid))).toBe(false);
  },
);

/** The longest of three starts of a Node.js that does nothing, on this machine as loaded now. */
async function nodeStartMs(): Promise<number> {
  let longest = 0;
  for (let run = 0; run < 3; run++) {
    const started = Date.now();
    await new Promise((resolve) => spawn(process.execPath, ['-e', '']).once('exit', resolve));
    longest = Math.max(longest, Date.now() - started);
  }
  return longest;
}
