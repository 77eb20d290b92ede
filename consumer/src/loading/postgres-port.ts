/**
 * PostgreSQL as the loader reaches it, implemented by storing/ (loader-port.ts) and handed in by the
 * consumer: the loader itself never holds a pool or a statement.
 */
import type { CopyRows } from '../decoding/copy-rows.js';
import type { InsertResult } from '../storing/db.js';
import type { MoveResult, OffsetMove } from '../storing/offsets.js';

export interface PostgresPort {
  /** Stores the rows in one transaction, with `move` the partition's offset in it too (one attempt). */
  insertRows(rows: CopyRows, move?: OffsetMove): Promise<InsertResult>;
  /** Moves the partition's stored offset on its own (one attempt). */
  moveOffset(move: OffsetMove): Promise<MoveResult>;
  /** Where each partition of the topic continues, as the table says. */
  readStoredOffsets(): Promise<Map<number, bigint>>;
  /** Calls `listener` whenever a connection is lost; returns how to stop. */
  onConnectionLost(listener: () => void): () => void;
}
