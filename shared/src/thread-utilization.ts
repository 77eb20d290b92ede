/**
 * `user_actions_thread_utilization{thread}`: how busy each of a daemon's threads was since the previous
 * scrape, from 0 (idle) to 1 (never idle). Both daemons hand their heavy work to a thread of its own;
 * the thread near 1 is the one that limits the daemon.
 */
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** A thread's `eventLoopUtilization()`: how long it has been busy and idle so far. */
export type UtilizationSource = () => EventLoopUtilization;

export interface ThreadUtilization {
  /** Reports `thread` from the next scrape on; the daemon's main thread is reported from the start. */
  watch(thread: string, source: UtilizationSource): void;
}

export function createThreadUtilization(registry: Registry): ThreadUtilization {
  const watched = new Map<string, { source: UtilizationSource; last: EventLoopUtilization }>();
  const watch = (thread: string, source: UtilizationSource) => {
    watched.set(thread, { source, last: source() });
  };
  watch('main', () => performance.eventLoopUtilization());
  new Gauge({
    name: 'user_actions_thread_utilization',
    help: "Share of the time since the previous scrape each of the daemon's threads was busy (0-1)",
    labelNames: ['thread'] as const,
    registers: [registry],
    collect() {
      for (const [thread, entry] of watched) {
        const now = entry.source();
        this.set({ thread }, utilizationBetween(entry.last, now));
        entry.last = now;
      }
    },
  });
  return { watch };
}

function utilizationBetween(before: EventLoopUtilization, after: EventLoopUtilization): number {
  const active = after.active - before.active;
  const idle = after.idle - before.idle;
  return active + idle > 0 ? active / (active + idle) : 0;
}
