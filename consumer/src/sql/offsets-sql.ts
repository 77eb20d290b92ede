/**
 * Where each partition's next event is, per consumer group, in a table beside the events: moved in the
 * transaction that stores the events before it, so the table and its position in the topic can never
 * disagree (docs/architecture.md).
 */
import pg from 'pg';
import type { OffsetMove } from '../loading/postgres-port.js';
import type { SqlNames } from './sql-names.js';

/** What a failed offset move says before the offset it found (offsets.ts reads it back). */
export const OFFSET_ELSEWHERE = 'offset elsewhere: ';

export function offsetsSqlFor(names: SqlNames) {
  const offsetsName = names.derivedName('_offsets');
  const offsets = names.qualified('_offsets');
  return {
    offsetsDisplay: names.display(offsetsName),

    createOffsetsTable: `
CREATE TABLE IF NOT EXISTS ${offsets} (
  group_id    TEXT        NOT NULL,
  topic       TEXT        NOT NULL,
  partition   INTEGER     NOT NULL,
  next_offset BIGINT      NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, topic, partition)
)`,

    offsetsColumns: names.columnsOf(offsetsName),

    /**
     * Moves a partition's offset from $4 to $5, or records it when the partition has none yet; a
     * partition found anywhere but at $4 is left as it is (no row affected): the batch did not start
     * where the table ends. Named, so that each connection plans it once.
     */
    moveOffset: {
      name: `move-offset ${offsets}`,
      text: `
INSERT INTO ${offsets} AS stored (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $5)
ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
WHERE stored.next_offset = $4`,
    },

    /**
     * The same move as one statement of a text with several, which takes no parameters: the values
     * (a consumer group's and a topic's names, numbers) are written into it escaped by node-postgres'
     * `escapeLiteral`. A partition found anywhere but at `from` fails it with PostgreSQL's error 22P02
     * on the text `offset elsewhere: <stored offset>` (see offsets.ts): a statement whose row count
     * cannot be read can still stop the transaction.
     */
    moveOffsetOrFail: (groupId: string, { topic, partition, from, to }: OffsetMove) => `
INSERT INTO ${offsets} AS stored (group_id, topic, partition, next_offset)
VALUES (${pg.escapeLiteral(groupId)}, ${pg.escapeLiteral(topic)}, ${Math.trunc(partition)}, ${to})
ON CONFLICT (group_id, topic, partition) DO UPDATE SET
  next_offset = CASE WHEN stored.next_offset = ${from} THEN EXCLUDED.next_offset
                ELSE ('${OFFSET_ELSEWHERE}' || stored.next_offset)::bigint END,
  updated_at = now()`,

    readOffsets: `SELECT partition, next_offset FROM ${offsets} WHERE group_id = $1 AND topic = $2`,

    readOffset: `SELECT next_offset FROM ${offsets} WHERE group_id = $1 AND topic = $2 AND partition = $3`,
  } as const;
}
