import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { trackLag } from '../src/loading/lag-tracker.js';

const trackers: { stop(): void }[] = [];
afterEach(() => {
  for (const tracker of trackers.splice(0)) tracker.stop();
  vi.useRealTimers();
});

function tracked(ends: Map<number, bigint>, { onRefreshFailed = vi.fn(), brokerAnswers = () => true } = {}) {
  const gauge = new Gauge({ name: 'lag', help: 'lag', labelNames: ['partition'] as const, registers: [new Registry()] });
  const tracker = trackLag({ gauge, endOffsets: async () => new Map(ends), onRefreshFailed, brokerAnswers, refreshMs: 1_000 });
  trackers.push(tracker);
  const lag = async () =>
    Object.fromEntries((await gauge.get()).values.map(({ labels, value }) => [String(labels.partition), value]));
  return { tracker, lag };
}

describe('the lag a consumer reports', () => {
  it('is the end of each owned partition minus where it continues, at each commit', async () => {
    const { tracker, lag } = tracked(new Map());
    tracker.assigned([0, 1]);
    tracker.continuesAt(0, 90n, 100n);
    tracker.continuesAt(1, 5n, 5n);
    tracker.continuesAt(2, 1n, 50n); // not this consumer's
    expect(await lag()).toEqual({ '0': 10, '1': 0 });
  });

  it("grows while the consumer is stuck on a batch, from the broker's ends", async () => {
    vi.useFakeTimers();
    const ends = new Map([[0, 100n]]);
    const { tracker, lag } = tracked(ends);
    tracker.assigned([0]);
    tracker.continuesAt(0, 100n, 100n);
    expect(await lag()).toEqual({ '0': 0 });
    ends.set(0, 160n); // no commit since: PostgreSQL is away
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await lag()).toEqual({ '0': 60 });
  });

  it("is not lowered by the broker's answer to a request sent before the last commit", async () => {
    vi.useFakeTimers();
    const { tracker, lag } = tracked(new Map([[0, 110n]]));
    tracker.assigned([0]);
    tracker.continuesAt(0, 100n, 120n);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await lag()).toEqual({ '0': 20 });
  });

  it('sends the broker no request while it does not answer: it would wait for the request timeout', async () => {
    vi.useFakeTimers();
    const endOffsets = vi.fn(async () => new Map([[0, 50n]]));
    const gauge = new Gauge({ name: 'lag', help: 'lag', labelNames: ['partition'] as const, registers: [new Registry()] });
    let answers = false;
    const tracker = trackLag({ gauge, endOffsets, onRefreshFailed: vi.fn(), brokerAnswers: () => answers, refreshMs: 1_000 });
    trackers.push(tracker);
    tracker.assigned([0]);
    tracker.continuesAt(0, 10n, 10n);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(endOffsets).not.toHaveBeenCalled();
    answers = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(endOffsets).toHaveBeenCalledTimes(1);
    expect((await gauge.get()).values.map(({ value }) => value)).toEqual([40]);
  });

  it("starts at PostgreSQL's offset read at assignment, unless a batch was committed meanwhile", async () => {
    const { tracker, lag } = tracked(new Map());
    tracker.assigned([0, 1]);
    tracker.continuesAt(0, 105n, 105n); // committed before the read below came back
    tracker.startsAt(0, 100n);
    tracker.startsAt(1, 7n);
    tracker.continuesAt(1, 9n, 12n);
    expect(await lag()).toEqual({ '0': 0, '1': 3 });
  });

  it('forgets partitions given to another consumer, which would otherwise be counted twice', async () => {
    const { tracker, lag } = tracked(new Map());
    tracker.assigned([0, 1]);
    tracker.continuesAt(0, 1n, 10n);
    tracker.continuesAt(1, 1n, 10n);
    tracker.assigned([1]);
    tracker.startsAt(1, 1n); // PostgreSQL's offset, read at the new assignment
    expect(await lag()).toEqual({ '1': 9 });
  });

  it('keeps its last values when the broker cannot be asked, and says so', async () => {
    vi.useFakeTimers();
    const gauge = new Gauge({ name: 'lag', help: 'lag', labelNames: ['partition'] as const, registers: [new Registry()] });
    const onRefreshFailed = vi.fn();
    const tracker = trackLag({
      gauge,
      endOffsets: () => Promise.reject(new Error('broker away')),
      onRefreshFailed,
      brokerAnswers: () => true,
      refreshMs: 1_000,
    });
    trackers.push(tracker);
    tracker.assigned([0]);
    tracker.continuesAt(0, 5n, 8n);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(onRefreshFailed).toHaveBeenCalledWith(new Error('broker away'));
    expect((await gauge.get()).values.map(({ value }) => value)).toEqual([3]);
  });
});
