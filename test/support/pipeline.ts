/** The whole pipeline once: a producer sends `count` events and exits, then a consumer stores them all. */
import { expect } from 'vitest';
import { type Daemon, spawnDaemon } from './daemon.js';
import { waitUntilStable } from './wait.js';
import type { World } from './world.js';

/** Resolves with both daemons once exactly `count` rows are stored; the consumer is still running. */
export async function produceAndStore(
  world: World,
  env: Record<string, string>,
  count: number,
): Promise<{ producer: Daemon; consumer: Daemon }> {
  const producer = spawnDaemon('producer', { ...env, PRODUCER_INTERVAL_MS: '0', PRODUCER_COUNT: String(count) });
  expect((await producer.exited).code).toBe(0);
  const consumer = spawnDaemon('consumer', env);
  await world.waitForRows(count);
  expect(await waitUntilStable(world.rowCount, { stableMs: 1_000 })).toBe(count);
  return { producer, consumer };
}
