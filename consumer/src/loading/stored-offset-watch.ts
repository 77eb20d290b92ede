/**
 * Finds a table that went back without waiting for a batch to reveal it. PostgreSQL can lose its latest
 * commits (a failover to a replica behind, a restore) while a partition has nothing new to fetch: the
 * batch rule (store-batch.ts) sees it only when the next event arrives, which on a quiet partition can
 * be hours, while Kafka's committed offsets, ahead of the table, show no lag. So the stored offsets of
 * the partitions this consumer owns are read
 * - at each assignment, for every partition: where each starts (the table says, not Kafka);
 * - once PostgreSQL is back after it was lost (a batch retried, an idle connection closed), for every one;
 * - every CHECK_EVERY_MS for the partitions that committed nothing in that time. A commit proves that the
 *   table continues where the consumer stands (the offset's move is conditional), so a busy consumer
 *   sends no query at all.
 * A partition whose stored offset is behind where this consumer stands is read again from the table's
 * offset, and counts its lag from there.
 */
import type { PartitionPositions } from './lag-tracker.js';

export const CHECK_EVERY_MS = 2_000;

export interface StoredOffsetWatchOptions {
  positions: PartitionPositions;
  /** The stored offsets of the group's partitions (bounded like every PostgreSQL read). */
  readStored(): Promise<Map<number, bigint>>;
  /** Fetches the partition from `offset` next; false when the Kafka client cannot now (tried again later). */
  seek(partition: number, offset: bigint): boolean;
  observer: StoredOffsetObserver;
  everyMs?: number;
}

/** What the watch found, for logs and metrics. */
export interface StoredOffsetObserver {
  /** Partitions whose start was read from the table (after an assignment). */
  startingAt(offsets: ReadonlyMap<number, bigint>): void;
  /** The table lost events this consumer had stored: `position` - `stored` of them are read again. */
  behind(partition: number, stored: bigint, position: bigint): void;
  /** The read failed: it is tried again at the next tick. */
  readFailed(error: unknown): void;
}

export interface StoredOffsetWatch {
  /** Reads every owned partition's stored offset as soon as possible (at once if no read is under way). */
  checkAll(): void;
  stop(): void;
}

export function watchStoredOffsets(options: StoredOffsetWatchOptions): StoredOffsetWatch {
  const { positions, observer } = options;
  const everyMs = options.everyMs ?? CHECK_EVERY_MS;
  let allDue = false;
  let reading = false;
  let stopped = false;

  const due = (now: number) =>
    positions.owned().filter((partition) => {
      const position = positions.position(partition);
      return allDue || position === undefined || now - position.movedAt >= everyMs;
    });

  /** One read of the partitions due; false when nothing was due or the read failed. */
  const checkOnce = async (): Promise<boolean> => {
    const partitions = due(Date.now());
    if (partitions.length === 0) return false;
    const checkedAll = allDue;
    allDue = false;
    const assignment = positions.assignment;
    const stamps = new Map(partitions.map((partition) => [partition, positions.position(partition)?.stamp]));
    let stored: Map<number, bigint>;
    try {
      stored = await options.readStored();
    } catch (error) {
      allDue ||= checkedAll;
      observer.readFailed(error);
      return false;
    }
    // A new assignment since the read began asks for a read of its own.
    if (stopped || positions.assignment !== assignment) return true;
    followStored(options, stamps, stored);
    return true;
  };

  // One read at a time; a request for every partition made during a read is served right after it.
  const check = async () => {
    if (reading) return;
    reading = true;
    try {
      while (!stopped && (await checkOnce()) && allDue) {}
    } finally {
      reading = false;
    }
  };

  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return {
    checkAll() {
      allDue = true;
      void check();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/**
 * Each partition whose position did not move while the table was read (`stamps`, as it was before the
 * read) starts at its stored offset, or goes back to it when the table is behind.
 */
function followStored(
  { positions, observer, seek }: StoredOffsetWatchOptions,
  stamps: ReadonlyMap<number, number | undefined>,
  stored: ReadonlyMap<number, bigint>,
): void {
  const starts = new Map<number, bigint>();
  for (const [partition, stamp] of stamps) {
    const position = positions.position(partition);
    const offset = stored.get(partition);
    // Moved while the table was read (a commit, which proves the table): the read is older than that.
    // No stored offset: the partition starts where Kafka's committed offset says.
    if (position?.stamp !== stamp || offset === undefined) continue;
    if (position === undefined) {
      if (!seek(partition, offset)) continue;
      positions.startsAt(partition, offset);
      starts.set(partition, offset);
    } else if (offset < position.next && seek(partition, offset)) {
      observer.behind(partition, offset, position.next);
      positions.movedTo(partition, offset);
    }
  }
  if (starts.size > 0) observer.startingAt(starts);
}
