import { describe, expect, it } from 'vitest';
import { LIVE_WINDOW, SecondTally } from '../src/live/live-feed.js';

describe("the live page's tally of events per second", () => {
  it('reads the whole hour first, then only the last seconds', () => {
    const tally = new SecondTally();
    expect(tally.windowSeconds()).toBe(LIVE_WINDOW.funnelSeconds);
    tally.update(10_000, 10_000 - 3_600, []);
    // The last ten seconds, and the time since the tick before (under a second here, counted as one).
    expect(tally.windowSeconds()).toBe(LIVE_WINDOW.rereadSeconds + 1);
  });

  it('replaces what it knew of the seconds read again, keeps older ones, and forgets those past the hour', () => {
    const tally = new SecondTally();
    tally.update(10_000, 6_400, [
      { second: 6_000, action: 'Login', count: 9 }, // older than the hour: forgotten
      { second: 9_000, action: 'Login', count: 2 },
      { second: 9_995, action: 'Login', count: 1 },
      { second: 9_995, action: 'PageView', count: 4 },
    ]);
    // Read again from 9,990: 9,995 now has a late Login more, and no PageView counted twice.
    tally.update(10_001, 9_990, [
      { second: 9_995, action: 'Login', count: 2 },
      { second: 9_995, action: 'PageView', count: 4 },
      { second: 10_000, action: 'Purchase', count: 3 },
    ]);
    expect(tally.funnel()).toEqual({ Login: 4, PageView: 4, AddToCart: 0, Purchase: 3 });
    // The chart: the last five minutes only.
    expect(
      tally
        .chart(10_001)
        .map(({ second }) => second)
        .sort((a, b) => a - b),
    ).toEqual([9_995, 9_995, 10_000]);
  });
});
