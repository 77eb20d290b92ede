/**
 * `user_actions_consumer_lag_messages{partition}` for the partitions this consumer owns: the partition's
 * end in Kafka minus the offset after its last committed batch. Set at each commit, and from the
 * broker's end offsets every few seconds as well, so that a consumer stuck on a batch (PostgreSQL away)
 * shows the events piling up behind it rather than the lag it had when it last committed: the stalled
 * alert depends on it. A partition given to another consumer is no longer reported here, where it would
 * be counted twice.
 */
import type { Gauge } from 'prom-client';

export const LAG_REFRESH_MS = 5_000;

export interface LagTracker {
  /** The partitions the group gave this consumer; every other one is forgotten. */
  assigned(partitions: readonly number[]): void;
  /** Where a partition continues after a committed batch. */
  continuesAt(partition: number, nextOffset: bigint, end?: bigint): void;
  /**
   * PostgreSQL's offset read at assignment: where a partition starts, unless a batch was committed in
   * the meantime (the read may be older than that commit).
   */
  startsAt(partition: number, nextOffset: bigint): void;
  stop(): void;
}

export function trackLag(options: {
  gauge: Gauge<'partition'>;
  /** Each partition's end (high watermark) in Kafka. */
  endOffsets: () => Promise<Map<number, bigint>>;
  /** A refresh that failed: the lag keeps its last values until the next one. */
  onRefreshFailed: (error: unknown) => void;
  /**
   * Whether the broker answers at all: a request on a silent connection waits for the request timeout,
   * and would hold the admin client's disconnect as long at shutdown.
   */
  brokerAnswers: () => boolean;
  refreshMs?: number;
}): LagTracker {
  const { gauge } = options;
  let owned = new Set<number>();
  const next = new Map<number, bigint>();
  const ends = new Map<number, bigint>();

  // Ends only move forward: an answer the broker gave before the last commit says less than the commit.
  const raiseEnd = (partition: number, end: bigint) => {
    if (end > (ends.get(partition) ?? -1n)) ends.set(partition, end);
  };
  const publish = (partition: number) => {
    const offset = next.get(partition);
    const end = ends.get(partition);
    if (offset === undefined || end === undefined || !owned.has(partition)) return;
    gauge.set({ partition: String(partition) }, Math.max(0, Number(end - offset)));
  };

  let refreshing = false;
  const refresh = async () => {
    // A broker that is slow to answer is asked once at a time, a silent one not at all.
    if (refreshing || owned.size === 0 || !options.brokerAnswers()) return;
    refreshing = true;
    try {
      for (const [partition, end] of await options.endOffsets()) {
        raiseEnd(partition, end);
        publish(partition);
      }
    } catch (error) {
      options.onRefreshFailed(error);
    } finally {
      refreshing = false;
    }
  };
  const timer = setInterval(() => void refresh(), options.refreshMs ?? LAG_REFRESH_MS);
  timer.unref();

  return {
    assigned(partitions) {
      owned = new Set(partitions);
      gauge.reset();
      next.clear(); // learnt again from PostgreSQL's offsets and the commits
    },
    continuesAt(partition, nextOffset, end) {
      next.set(partition, nextOffset);
      if (end !== undefined) raiseEnd(partition, end);
      publish(partition);
    },
    startsAt(partition, nextOffset) {
      if (next.has(partition)) return;
      next.set(partition, nextOffset);
      publish(partition);
    },
    stop() {
      clearInterval(timer);
    },
  };
}
