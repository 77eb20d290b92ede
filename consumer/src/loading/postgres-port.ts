/**
 * PostgreSQL as the loader reaches it, implemented by writing/loader-port.ts and handed in by the
 * consumer: the loader itself never holds a pool or a statement.
 */
import type { CopyRows } from '../decoding/copy-rows.js';

/** A batch's place in its partition: `from` is the offset it was fetched at, `to` the one after its last message. */
export interface OffsetMove {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

/** Moved, or not because the partition's stored offset is elsewhere (it is given). */
export type MoveResult = { moved: true } | { moved: false; stored: bigint };

export interface InsertResult {
  /** How many rows were new (events already stored are skipped). */
  inserted: number;
  /** Rows older than the retention window's start, skipped (counted, not stored). */
  expired: number;
  /** With an offset move: whether it was made, in the rows' transaction; when not, nothing was stored. */
  move?: MoveResult;
}

export interface PostgresPort {
  /** How many batches can be written at once (its connections). */
  readonly connections: number;
  /** Stores the rows in one transaction, with `move` the partition's offset in it too (one attempt). */
  insertRows(rows: CopyRows, move?: OffsetMove): Promise<InsertResult>;
  /** Moves the partition's stored offset on its own (one attempt). */
  moveOffset(move: OffsetMove): Promise<MoveResult>;
  /** Where each partition of the topic continues, as the table says. */
  readStoredOffsets(): Promise<Map<number, bigint>>;
  /** Calls `listener` whenever a connection is lost; returns how to stop. */
  onConnectionLost(listener: () => void): () => void;
}
