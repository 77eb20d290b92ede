import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackLag } from '../src/loading/lag-tracker.js';
import { type StoredOffsetObserver, watchStoredOffsets } from '../src/loading/stored-offset-watch.js';

const EVERY_MS = 1_000;
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  vi.useRealTimers();
});

/** A consumer's positions and lag, and the watch over them, with the table's offsets in `table`. */
function watched(table: Map<number, bigint>, { ends = new Map<number, bigint>() } = {}) {
  vi.useFakeTimers();
  const gauge = new Gauge({ name: 'lag', help: 'lag', labelNames: ['partition'] as const, registers: [new Registry()] });
  const positions = trackLag({
    gauge,
    endOffsets: async () => new Map(ends),
    onRefreshFailed: () => undefined,
    brokerAnswers: () => true,
    refreshMs: 60_000,
  });
  const reads = { count: 0, fail: false, hold: undefined as Promise<void> | undefined };
  const readStored = vi.fn(async () => {
    reads.count++;
    const read = new Map(table); // as the table was when the read began
    await reads.hold;
    if (reads.fail) throw new Error('PostgreSQL away');
    return read;
  });
  const sought: [number, bigint][] = [];
  const client = { refuses: false };
  const observer = { startingAt: vi.fn(), behind: vi.fn(), readFailed: vi.fn() } satisfies StoredOffsetObserver;
  const watch = watchStoredOffsets({
    positions,
    readStored,
    seek: (partition, offset) => {
      if (client.refuses) return false;
      sought.push([partition, offset]);
      return true;
    },
    observer,
    everyMs: EVERY_MS,
  });
  stops.push(
    () => watch.stop(),
    () => positions.stop(),
  );
  const assign = async (partitions: number[]) => {
    positions.assigned(partitions);
    watch.checkAll();
    await vi.advanceTimersByTimeAsync(0);
  };
  const lag = async () =>
    Object.fromEntries((await gauge.get()).values.map(({ labels, value }) => [String(labels.partition), value]));
  return { positions, watch, reads, sought, client, observer, assign, lag };
}

describe("the watch on PostgreSQL's offsets", () => {
  it("starts each assigned partition at the table's offset; one with none stored starts where Kafka says", async () => {
    const { sought, observer, positions, assign } = watched(
      new Map([
        [0, 40n],
        [1, 7n],
        [5, 99n],
      ]),
    );
    await assign([0, 1, 2]);
    expect(sought).toEqual([
      [0, 40n],
      [1, 7n],
    ]);
    expect(observer.startingAt).toHaveBeenCalledWith(
      new Map([
        [0, 40n],
        [1, 7n],
      ]),
    );
    expect(positions.position(0)?.next).toBe(40n);
    expect(positions.position(2)).toBeUndefined();
  });

  it('reads an idle partition whose table went back from the table, with no batch to reveal it, and counts its lag from there', async () => {
    const table = new Map([[0, 100n]]);
    const { positions, sought, observer, assign, lag } = watched(table, { ends: new Map([[0, 100n]]) });
    await assign([0]);
    positions.continuesAt(0, 150n, 150n); // stored up to 150, then nothing more arrives
    table.set(0, 120n); // a failover to a replica that lacks the last 30 events
    await vi.advanceTimersByTimeAsync(2 * EVERY_MS);
    expect(sought.at(-1)).toEqual([0, 120n]);
    expect(observer.behind).toHaveBeenCalledWith(0, 120n, 150n);
    expect(await lag()).toEqual({ '0': 30 });
    // Found once: the position is now the table's.
    await vi.advanceTimersByTimeAsync(3 * EVERY_MS);
    expect(observer.behind).toHaveBeenCalledTimes(1);
  });

  it('leaves a partition alone where the table is where the consumer stands, or ahead (another consumer moved it)', async () => {
    const table = new Map([
      [0, 10n],
      [1, 20n],
    ]);
    const { positions, sought, observer, assign } = watched(table);
    await assign([0, 1]);
    table.set(1, 25n);
    await vi.advanceTimersByTimeAsync(3 * EVERY_MS);
    expect(sought).toHaveLength(2); // the starts only
    expect(observer.behind).not.toHaveBeenCalled();
    expect(positions.position(1)?.next).toBe(20n);
  });

  it('sends no read while every owned partition commits: each commit proves the table', async () => {
    const { positions, reads, assign } = watched(new Map([[0, 0n]]));
    await assign([0]);
    const readsAtStart = reads.count;
    for (let offset = 1n; offset <= 20n; offset++) {
      positions.continuesAt(0, offset * 100n, offset * 100n);
      await vi.advanceTimersByTimeAsync(EVERY_MS / 2);
    }
    expect(reads.count).toBe(readsAtStart);
  });

  it('does not go back on a read older than a commit made while it ran (the commit moved the table too)', async () => {
    const table = new Map([[0, 50n]]);
    const { positions, reads, sought, observer, assign } = watched(table);
    await assign([0]);
    let release = () => {};
    reads.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    await vi.advanceTimersByTimeAsync(EVERY_MS); // idle: read, held
    positions.continuesAt(0, 80n); // committed while the read was under way
    table.set(0, 80n);
    reads.hold = undefined;
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(observer.behind).not.toHaveBeenCalled();
    expect(sought).toEqual([[0, 50n]]);
  });

  it('drops a read that a new assignment overtook, and reads again for the new one', async () => {
    const table = new Map([
      [0, 5n],
      [1, 6n],
    ]);
    const { positions, reads, sought, watch } = watched(table);
    let release = () => {};
    reads.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    positions.assigned([0]);
    watch.checkAll();
    positions.assigned([1]); // a rebalance while the first read is under way
    watch.checkAll();
    reads.hold = undefined;
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(sought).toEqual([[1, 6n]]);
    expect(reads.count).toBe(2);
  });

  it('tries a failed read again at the next tick, every partition when every partition was asked for', async () => {
    const table = new Map([[0, 5n]]);
    const { reads, sought, observer, assign } = watched(table);
    reads.fail = true;
    await assign([0]);
    expect(observer.readFailed).toHaveBeenCalledWith(new Error('PostgreSQL away'));
    expect(sought).toEqual([]);
    reads.fail = false;
    await vi.advanceTimersByTimeAsync(EVERY_MS);
    expect(sought).toEqual([[0, 5n]]);
  });

  it('checks every partition, busy or not, once PostgreSQL is back', async () => {
    const table = new Map([[0, 10n]]);
    const { positions, sought, watch, assign } = watched(table);
    await assign([0]);
    positions.continuesAt(0, 30n);
    table.set(0, 20n);
    watch.checkAll(); // a batch retried, or an idle connection lost
    await vi.advanceTimersByTimeAsync(0);
    expect(sought.at(-1)).toEqual([0, 20n]);
  });

  it('tries again at the next tick when the Kafka client refuses the seek', async () => {
    const { client, sought, positions, assign } = watched(new Map([[0, 3n]]));
    client.refuses = true;
    await assign([0]);
    expect(positions.position(0)).toBeUndefined();
    client.refuses = false;
    await vi.advanceTimersByTimeAsync(EVERY_MS);
    expect(sought).toEqual([[0, 3n]]);
  });
});
