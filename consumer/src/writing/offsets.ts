/**
 * Each partition's position in the topic, kept in PostgreSQL beside the rows: the offset of the next
 * event to store. It only moves from where a batch started to where it ends, in the transaction that
 * stores the batch, so a database that loses its latest transactions (a failover, a restore) loses their
 * offsets with them, and the consumer reads those events again.
 */
import type pg from 'pg';
import type { MoveResult, OffsetMove } from '../loading/postgres-port.js';
import { OFFSET_ELSEWHERE, type TableSql } from '../sql/sql.js';

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Moves the offset in `queryable`'s transaction (or on its own, outside one). */
export async function moveOffset(queryable: Queryable, sql: TableSql, groupId: string, move: OffsetMove): Promise<MoveResult> {
  const key = [groupId, move.topic, move.partition];
  const { rowCount } = await queryable.query({ ...sql.moveOffset, values: [...key, move.from.toString(), move.to.toString()] });
  return rowCount === 1 ? { moved: true } : { moved: false, stored: await storedOffset(queryable, sql, groupId, move) };
}

/**
 * The partition's stored offset, when `error` is a move that failed because the offset is elsewhere
 * (`beginMovingOffset…` in sql.ts); undefined for any other error.
 */
export function offsetElsewhere(error: unknown): bigint | undefined {
  if ((error as { code?: unknown } | null)?.code !== '22P02') return undefined;
  const found = new RegExp(`"${OFFSET_ELSEWHERE}(\\d+)"`).exec((error as Error).message);
  return found ? BigInt(found[1] as string) : undefined;
}

async function storedOffset(queryable: Queryable, sql: TableSql, groupId: string, move: OffsetMove): Promise<bigint> {
  const { rows } = await queryable.query<{ next_offset: string }>(sql.readOffset, [groupId, move.topic, move.partition]);
  // The row exists: the insert met it. It cannot be deleted by anyone but an operator.
  return BigInt(rows[0]?.next_offset ?? move.from);
}

/** The stored offsets of a group's partitions of a topic. */
export async function readStoredOffsets(
  queryable: Queryable,
  sql: TableSql,
  groupId: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const { rows } = await queryable.query<{ partition: number; next_offset: string }>(sql.readOffsets, [groupId, topic]);
  return new Map(rows.map((row) => [row.partition, BigInt(row.next_offset)]));
}
