/**
 * What the live page shows, read once per tick by one query however many pages are open (PostgreSQL
 * and the consumer share the machine), and only while at least one is. The feed keeps a tally of events
 * per second and action for the last hour: the first tick reads the whole hour, every later one only the
 * last few seconds, which replace what was read of them before (events stored a little late are counted
 * when they come; one stored later than that is left to the counts endpoint, which is exact). The chart
 * and the funnel are drawn from the tally. Each open page receives the same text; a page that opens gets
 * the latest one at once.
 */
import { toError } from '@user-actions/shared/errors';
import type { Logger } from '@user-actions/shared/logger';
import { outageReason } from '@user-actions/shared/postgres/errors';
import { ACTIONS } from '@user-actions/shared/schema';
import type pg from 'pg';
import type { Counter } from 'prom-client';
import type { ReadSql } from '../reading/read-sql.js';

export const LIVE_WINDOW = {
  /** The chart's span. */
  chartSeconds: 300,
  /** The funnel's span, and how long the tally keeps a second. */
  funnelSeconds: 3_600,
  /** How far back each tick reads again: an event stored up to this late still counts. */
  rereadSeconds: 10,
  newest: 20,
} as const;

/** The funnel's steps, in order. */
export const FUNNEL = ['Login', 'PageView', 'AddToCart', 'Purchase'] as const;

/** One server-sent event, as the page's EventSource reads it. */
export type LiveMessage = { event: 'tick' | 'problem'; data: string };

export interface LiveFeed {
  /** Calls `listener` with each tick's message until the returned function is called. */
  subscribe(listener: (message: LiveMessage) => void): () => void;
  stop(): void;
}

interface TickRows {
  now: number;
  perSecond: { second: number; action: string; count: number }[];
  newest: unknown[];
  newestAt: string | null;
}

/** Events per second and action, for the last hour, as the ticks read them. */
export class SecondTally {
  private readonly seconds = new Map<number, Map<string, number>>();
  /** When the last tick was read, by this process's monotonic clock (PostgreSQL's may differ from it). */
  private lastReadAt: number | undefined;

  /** How many seconds back the next tick must read: the whole hour at first, then the last few seconds. */
  windowSeconds(): number {
    if (this.lastReadAt === undefined) return LIVE_WINDOW.funnelSeconds;
    const sinceLast = Math.ceil((performance.now() - this.lastReadAt) / 1000);
    return Math.min(LIVE_WINDOW.funnelSeconds, LIVE_WINDOW.rereadSeconds + sinceLast);
  }

  /** What a tick read from `since` on (PostgreSQL's seconds) replaces what was known of those seconds. */
  update(now: number, since: number, rows: TickRows['perSecond']): void {
    for (const second of this.seconds.keys()) {
      if (second >= since || second < now - LIVE_WINDOW.funnelSeconds) this.seconds.delete(second);
    }
    for (const { second, action, count } of rows) {
      const actions = this.seconds.get(second) ?? new Map<string, number>();
      actions.set(action, count);
      this.seconds.set(second, actions);
    }
    this.lastReadAt = performance.now();
  }

  /** The chart's points: per second and action over its span. */
  chart(now: number): { second: number; action: string; count: number }[] {
    const points: { second: number; action: string; count: number }[] = [];
    for (const [second, actions] of this.seconds) {
      if (second < now - LIVE_WINDOW.chartSeconds) continue;
      for (const [action, count] of actions) points.push({ second, action, count });
    }
    return points;
  }

  /** Events of each funnel step over the tally's hour. */
  funnel(): Record<(typeof FUNNEL)[number], number> {
    const totals = Object.fromEntries(FUNNEL.map((step) => [step, 0])) as Record<(typeof FUNNEL)[number], number>;
    for (const actions of this.seconds.values()) for (const step of FUNNEL) totals[step] += actions.get(step) ?? 0;
    return totals;
  }
}

export function createLiveFeed(options: {
  pool: pg.Pool;
  sql: ReadSql;
  intervalMs: number;
  logger: Logger;
  queries: Counter;
}): LiveFeed {
  const { pool, sql, intervalMs, logger, queries } = options;
  const listeners = new Set<(message: LiveMessage) => void>();
  let tally = new SecondTally();
  let latest: LiveMessage | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** A tick is waiting or running: a page that opens meanwhile starts no other. */
  let ticking = false;
  let stopped = false;

  const read = async (): Promise<LiveMessage> => {
    const window = tally.windowSeconds();
    queries.inc();
    const { rows } = await pool.query<{ json: string }>(sql.live, [window, LIVE_WINDOW.newest]);
    const tick = JSON.parse(rows[0]?.json ?? '{}') as TickRows;
    tally.update(tick.now, Math.floor(tick.now) - window, tick.perSecond);
    return {
      event: 'tick',
      data: JSON.stringify({
        actions: ACTIONS,
        steps: FUNNEL,
        now: new Date(tick.now * 1000).toISOString(),
        perSecond: tally.chart(tick.now),
        funnel: tally.funnel(),
        newest: tick.newest,
        newestAt: tick.newestAt,
      }),
    };
  };

  const tick = async () => {
    if (listeners.size === 0 || stopped) {
      // Nobody watching: the tally goes stale, so the next page starts from a fresh hour.
      tally = new SecondTally();
      latest = undefined;
      ticking = false;
      return;
    }
    try {
      latest = await read();
    } catch (caught) {
      const reason = outageReason(toError(caught));
      logger.warn({ err: caught }, 'the live page could not be read');
      latest = { event: 'problem', data: JSON.stringify({ detail: reason }) };
    }
    for (const listener of listeners) listener(latest);
    // The next tick is counted from this one's end: a slow query never overlaps the next.
    timer = setTimeout(tick, intervalMs);
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      if (latest) listener(latest);
      if (!ticking) {
        ticking = true;
        timer = setTimeout(tick, 0);
      }
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      listeners.clear();
    },
  };
}
