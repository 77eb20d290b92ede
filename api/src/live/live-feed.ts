/**
 * What the live page shows, read once per tick by one query however many pages are open (PostgreSQL
 * and the consumer share the machine), and only while at least one is. Each open page receives the
 * same text; a page that opens gets the latest one at once.
 */
import { type Logger, toError } from '@user-actions/shared';
import { outageReason } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';
import type { Counter } from 'prom-client';
import type { ReadSql } from '../reading/read-sql.js';

/** The chart's window, the funnel's, and how many of the newest events the page lists. */
export const LIVE_WINDOW = { chartSeconds: 300, funnelSeconds: 3_600, newest: 20 } as const;

/** One server-sent event, as the page's EventSource reads it. */
export type LiveMessage = { event: 'tick' | 'problem'; data: string };

export interface LiveFeed {
  /** Calls `listener` with each tick's message until the returned function is called. */
  subscribe(listener: (message: LiveMessage) => void): () => void;
  readonly clients: number;
  stop(): void;
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
  let latest: LiveMessage | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** A tick is waiting or running: a page that opens meanwhile starts no other. */
  let ticking = false;
  let stopped = false;

  const tick = async () => {
    if (listeners.size === 0 || stopped) {
      ticking = false;
      return;
    }
    try {
      queries.inc();
      const { rows } = await pool.query<{ json: string }>(sql.live.text, [
        LIVE_WINDOW.chartSeconds,
        LIVE_WINDOW.funnelSeconds,
        LIVE_WINDOW.newest,
      ]);
      latest = { event: 'tick', data: rows[0]?.json ?? '{}' };
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
    get clients() {
      return listeners.size;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      listeners.clear();
    },
  };
}
