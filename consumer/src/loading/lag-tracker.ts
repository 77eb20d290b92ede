/**
 * Where each partition this consumer owns stands in the table, and `user_actions_consumer_lag_messages{partition}`:
 * the partition's end in Kafka minus that position, which is what the table is missing. The position is
 * PostgreSQL's offset read at assignment, moved by each committed batch, and moved back when the table
 * is found behind it (a failover, a restore). The lag is set at each commit, and from the broker's end
 * offsets every few seconds as well, so that a consumer stuck on a batch (PostgreSQL away) shows the
 * events piling up behind it rather than the lag it had when it last committed: the stalled alert
 * depends on it. A partition given to another consumer is no longer reported here, where it would be
 * counted twice.
 */
import type { Gauge } from 'prom-client';

export const LAG_REFRESH_MS = 5_000;

/** Where a partition continues in the table, as far as this consumer knows. */
export interface Position {
  next: bigint;
  /** Changes with every move of the position: a read of the table older than a move says less than it. */
  stamp: number;
  /** When the position last moved (Date.now()). */
  movedAt: number;
}

export interface PartitionPositions {
  /** The partitions the group gave this consumer. */
  owned(): readonly number[];
  /** Changes with every assignment. */
  readonly assignment: number;
  position(partition: number): Position | undefined;
  /**
   * PostgreSQL's offset read at assignment: where a partition starts, unless a batch was committed in
   * the meantime (the read may be older than that commit).
   */
  startsAt(partition: number, nextOffset: bigint): void;
  /** The table is not where this consumer thought: the partition continues from PostgreSQL's offset. */
  movedTo(partition: number, nextOffset: bigint): void;
}

export interface LagTracker extends PartitionPositions {
  /** The partitions the group gave this consumer; every other one is forgotten. */
  assigned(partitions: readonly number[]): void;
  /** Where a partition continues after a committed batch. */
  continuesAt(partition: number, nextOffset: bigint, end?: bigint): void;
  stop(): void;
}

export interface LagOptions {
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
}

export function trackLag(options: LagOptions): LagTracker {
  const { gauge } = options;
  let owned = new Set<number>();
  let assignment = 0;
  let stamps = 0;
  const next = new Map<number, Position>();
  const ends = new Map<number, bigint>();

  // Ends only move forward: an answer the broker gave before the last commit says less than the commit.
  const raiseEnd = (partition: number, end: bigint) => {
    if (end > (ends.get(partition) ?? -1n)) ends.set(partition, end);
  };
  const publish = (partition: number) => {
    const offset = next.get(partition)?.next;
    const end = ends.get(partition);
    if (offset === undefined || end === undefined || !owned.has(partition)) return;
    gauge.set({ partition: String(partition) }, Math.max(0, Number(end - offset)));
  };
  const moveTo = (partition: number, nextOffset: bigint) => {
    next.set(partition, { next: nextOffset, stamp: ++stamps, movedAt: Date.now() });
    publish(partition);
  };

  const stopRefreshing = refreshEnds(
    options,
    () => owned.size > 0,
    (partition, end) => {
      raiseEnd(partition, end);
      publish(partition);
    },
  );

  return {
    owned: () => [...owned],
    get assignment() {
      return assignment;
    },
    position: (partition) => next.get(partition),
    assigned(partitions) {
      owned = new Set(partitions);
      assignment++;
      gauge.reset();
      next.clear(); // learnt again from PostgreSQL's offsets and the commits
    },
    continuesAt(partition, nextOffset, end) {
      if (end !== undefined) raiseEnd(partition, end);
      moveTo(partition, nextOffset);
    },
    startsAt(partition, nextOffset) {
      if (!next.has(partition)) moveTo(partition, nextOffset);
    },
    movedTo: moveTo,
    stop: stopRefreshing,
  };
}

/** Asks the broker for the partitions' ends every `refreshMs`; returns how to stop. */
function refreshEnds(options: LagOptions, owns: () => boolean, onEnd: (partition: number, end: bigint) => void): () => void {
  let refreshing = false;
  const refresh = async () => {
    // A broker that is slow to answer is asked once at a time, a silent one not at all.
    if (refreshing || !owns() || !options.brokerAnswers()) return;
    refreshing = true;
    try {
      for (const [partition, end] of await options.endOffsets()) onEnd(partition, end);
    } catch (error) {
      options.onRefreshFailed(error);
    } finally {
      refreshing = false;
    }
  };
  const timer = setInterval(() => void refresh(), options.refreshMs ?? LAG_REFRESH_MS);
  timer.unref();
  return () => clearInterval(timer);
}
