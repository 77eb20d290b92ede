/**
 * What the live page shows, read once per tick by one query however many pages are open (PostgreSQL
 * and the consumer share the machine), and only while at least one is. The query reads the tallies the
 * consumer keeps (a few hundred rows, however fast events arrive) and the newest events; each open page
 * receives the same text, and a page that opens gets the latest one at once.
 */
import { classify } from '@user-actions/shared/errors';
import { ACTIONS } from '@user-actions/shared/event/schema';
import type { Logger } from '@user-actions/shared/logger';
import { postgresVerdict } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';
import type { Counter } from 'prom-client';
import type { ReadSql } from '../reading/read-sql.js';

export const LIVE_WINDOW = {
  /** The chart's span. */
  chartSeconds: 300,
  /** The funnel's span: the last minutes, the current one included. */
  funnelMinutes: 60,
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
  perAction: Record<string, number>;
  newest: unknown[];
  newestAt: string | null;
}

/** The live query's parameters, in its order. */
export const LIVE_PARAMETERS = [LIVE_WINDOW.chartSeconds, LIVE_WINDOW.funnelMinutes, LIVE_WINDOW.newest];

export function createLiveFeed(options: {
  pool: pg.Pool;
  sql: ReadSql;
  intervalMs: number;
  logger: Logger;
  queries: Counter;
}): LiveFeed {
  const { pool, sql, intervalMs, logger, queries } = options;
  const listeners = new Set<(message: LiveMessage) => void>();
  let latest: LiveMessage | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** A tick is waiting or running: a page that opens meanwhile starts no other. */
  let ticking = false;
  let stopped = false;

  const tick = async () => {
    if (listeners.size === 0 || stopped) {
      latest = undefined;
      ticking = false;
      return;
    }
    try {
      latest = await readTick(pool, sql, queries);
    } catch (caught) {
      const reason = classify(caught, postgresVerdict).message;
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

/** One tick: the live query, once for every page open. */
async function readTick(pool: pg.Pool, sql: ReadSql, queries: Counter): Promise<LiveMessage> {
  queries.inc();
  // Named: each connection plans it once (the table's partitions make planning cost more than running).
  const { rows } = await pool.query<{ json: string }>({ name: 'live', text: sql.live, values: LIVE_PARAMETERS });
  const tick = JSON.parse(rows[0]?.json ?? '{}') as TickRows;
  return {
    event: 'tick',
    data: JSON.stringify({
      actions: ACTIONS,
      steps: FUNNEL,
      now: new Date(tick.now * 1000).toISOString(),
      perSecond: tick.perSecond,
      funnel: Object.fromEntries(FUNNEL.map((step) => [step, tick.perAction[step] ?? 0])),
      newest: tick.newest,
      newestAt: tick.newestAt,
    }),
  };
}
