import { describe, expect, it } from 'vitest';
import { PartitionQueue } from '../src/loading/partition-queue.js';

const tick = () => new Promise((done) => setTimeout(done, 5));

describe('the per-partition queue', () => {
  it("runs a partition's batches one after another, in the order they came", async () => {
    const queue = new PartitionQueue();
    const log: string[] = [];
    const first = Promise.withResolvers<void>();
    queue.enqueue('t/0', async () => {
      log.push('first started');
      await first.promise;
      log.push('first done');
    });
    const second = queue.enqueue('t/0', async () => {
      log.push('second started');
    });
    await tick();
    expect(log).toEqual(['first started']);
    first.resolve();
    await second; // what enqueue returns: the earlier batch's completion
    await queue.drain();
    expect(log).toEqual(['first started', 'first done', 'second started']);
  });

  it('lets different partitions proceed side by side', async () => {
    const queue = new PartitionQueue();
    const blocked = Promise.withResolvers<void>();
    let otherRan = false;
    queue.enqueue('t/0', () => blocked.promise);
    queue.enqueue('t/1', async () => {
      otherRan = true;
    });
    await tick();
    expect(otherRan).toBe(true);
    blocked.resolve();
  });

  it('drains only once every queued batch has finished', async () => {
    const queue = new PartitionQueue();
    const blocked = Promise.withResolvers<void>();
    let finished = false;
    queue.enqueue('t/0', async () => {
      await blocked.promise;
      finished = true;
    });
    const drained = queue.drain().then(() => finished);
    await tick();
    blocked.resolve();
    await expect(drained).resolves.toBe(true);
  });
});
