/**
 * Stores a batch's rows, isolating the rows PostgreSQL refuses: when the one-statement insert fails
 * because of a value (a data exception), the batch is split in halves until the bad rows stand alone;
 * every good row is still stored, and each bad one is returned with PostgreSQL's reason.
 */
import { sourceOf, toError } from '@user-actions/shared';
import { isRowDataError } from '@user-actions/shared/postgres/errors';

export interface StoreResult {
  inserted: number;
  /** Rows older than the retention window, skipped. */
  expired: number;
  /** The rows PostgreSQL refused, by index into the rows given, with its reason: they become dead letters. */
  deadLetters: { index: number; reason: string }[];
}

/** Rows that can be cut into consecutive parts, like an array. */
export interface Sliceable<Rows> {
  readonly length: number;
  slice(start: number, end?: number): Rows;
}

export async function storeIsolatingBadRows<Rows extends Sliceable<Rows>>(
  rows: Rows,
  insert: (rows: Rows) => Promise<{ inserted: number; expired: number }>,
  firstIndex = 0,
): Promise<StoreResult> {
  if (rows.length === 0) return { inserted: 0, expired: 0, deadLetters: [] };
  try {
    return { ...(await insert(rows)), deadLetters: [] };
  } catch (error) {
    if (!isRowDataError(error)) throw error;
    if (rows.length === 1) {
      return {
        inserted: 0,
        expired: 0,
        deadLetters: [{ index: firstIndex, reason: `PostgreSQL: ${toError(sourceOf(error)).message}` }],
      };
    }
    const middle = Math.ceil(rows.length / 2);
    const left = await storeIsolatingBadRows(rows.slice(0, middle), insert, firstIndex);
    const right = await storeIsolatingBadRows(rows.slice(middle), insert, firstIndex + middle);
    return {
      inserted: left.inserted + right.inserted,
      expired: left.expired + right.expired,
      deadLetters: [...left.deadLetters, ...right.deadLetters],
    };
  }
}
