/** The loader's PostgreSQL port (loading/postgres-port.ts) on the consumer's pool and table. */
import type { ConsumerConfig } from '../config.js';
import { POOL_SIZE, type Pool } from '../connecting/pool.js';
import type { PostgresPort } from '../loading/postgres-port.js';
import { retentionCutoff } from '../schema/partition-layout.js';
import type { TableSql } from '../sql/sql.js';
import { insertRows } from './insert-rows.js';
import { moveOffset, readStoredOffsets } from './offsets.js';

export function loaderPort(
  pool: Pool,
  sql: TableSql,
  { groupId, topic, partitions }: Pick<ConsumerConfig, 'groupId' | 'topic' | 'partitions'>,
): PostgresPort {
  return {
    connections: POOL_SIZE,
    insertRows: (rows, move) =>
      insertRows(pool, sql, rows, {
        ...(move && { move: { groupId, ...move } }),
        ...(partitions?.retention && { cutoff: retentionCutoff(partitions.retention, new Date()) }),
      }),
    moveOffset: (move) => pool.guard.run('batch', (client) => moveOffset(client, sql, groupId, move)),
    readStoredOffsets: () => pool.guard.run('batch', (client) => readStoredOffsets(client, sql, groupId, topic)),
    onConnectionLost(listener) {
      pool.on('error', listener);
      return () => pool.off('error', listener);
    },
  };
}
