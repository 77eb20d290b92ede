/**
 * Periodic one-line summaries under load, instead of a log line per event: counters are added as work
 * happens and logged (with per-second rates) once per interval, only when something happened.
 */

import type { LogEvent } from './log-events.js';
import type { Logger } from './logger.js';
import { type ReadinessCheck, STOPPING } from './ops-server.js';

export interface SummaryLog<Counter extends string> {
  add(counter: Counter, amount?: number): void;
  /** Logs what is left and stops the timer. */
  stop(): void;
}

export function startSummaryLog<Counter extends string>(
  logger: Logger,
  {
    intervalMs,
    message,
    event,
    notReady,
  }: {
    intervalMs: number;
    message: string;
    event: LogEvent;
    /** What the daemon is waiting for: in every line while it lasts, and a line even when nothing else happened. */
    notReady?: ReadinessCheck;
  },
): SummaryLog<Counter> {
  const totals = new Map<Counter, number>();
  let current = new Map<Counter, number>();
  let since = Date.now();

  const flush = () => {
    // A daemon shutting down is not waiting for anything: its last line says what it did, nothing more.
    const unmet = (notReady?.() ?? []).filter((condition) => condition.reason !== STOPPING);
    if (current.size === 0 && unmet.length === 0) return;
    const seconds = Math.max((Date.now() - since) / 1000, 0.001);
    const fields: Record<string, number> = {};
    for (const [counter, amount] of current) {
      fields[counter] = amount;
      fields[`${counter}PerSecond`] = Math.round(amount / seconds);
      fields[`${counter}Total`] = totals.get(counter) ?? 0;
    }
    logger.info({ event, ...fields, ...(unmet.length > 0 && { notReady: unmet }) }, message);
    current = new Map();
    since = Date.now();
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();

  return {
    add(counter, amount = 1) {
      if (amount === 0) return;
      current.set(counter, (current.get(counter) ?? 0) + amount);
      totals.set(counter, (totals.get(counter) ?? 0) + amount);
    },
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}
