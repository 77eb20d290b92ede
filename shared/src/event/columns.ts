/**
 * The columns of a stored event, once: the table, the staging table, the COPY column list, the COPY
 * writer's order and the row types all derive from this list. Their order is the original system's
 * (after its SERIAL `id`), with `event_id` and `metadata` added.
 */

/** A column: its name in the table, the row field that fills it, its type and whether it may be NULL. */
interface ColumnSpec {
  readonly column: string;
  readonly field: string;
  readonly type: 'UUID' | 'TEXT' | 'TIMESTAMPTZ' | 'JSONB';
  readonly nullable: boolean;
  /** Only text the schema's patterns accept (ids, action names, timestamps): nothing for COPY to escape. */
  readonly plain: boolean;
}

export const COLUMNS = [
  { column: 'userid', field: 'userId', type: 'UUID', nullable: false, plain: true },
  { column: 'action', field: 'action', type: 'TEXT', nullable: false, plain: true },
  { column: 'ipaddress', field: 'ipAddress', type: 'TEXT', nullable: true, plain: false },
  { column: 'device', field: 'device', type: 'TEXT', nullable: true, plain: false },
  { column: 'timestamp', field: 'timestamp', type: 'TIMESTAMPTZ', nullable: false, plain: true },
  // The event's identity: a redelivered event is a no-op (the table's unique key, in sql.ts).
  { column: 'event_id', field: 'eventId', type: 'UUID', nullable: false, plain: true },
  // The event's whole Metadata (the original kept only two of its fields).
  { column: 'metadata', field: 'metadata', type: 'JSONB', nullable: true, plain: false },
] as const satisfies readonly ColumnSpec[];

type Column = (typeof COLUMNS)[number];

/** An event as the consumer stores it: each value as COPY text takes it. */
export type UserActionRow = {
  [C in Column as C['field']]: C['nullable'] extends true ? string | null : string;
};

interface PgValues {
  UUID: string;
  TEXT: string;
  TIMESTAMPTZ: Date;
  JSONB: Record<string, unknown>;
}

/** A stored row as node-postgres reads it back (tests, example queries). */
export type StoredRow = {
  [C in Column as C['column']]: PgValues[C['type']] | (C['nullable'] extends true ? null : never);
} & { id: string };

/** `event_id, userid, …`: the list COPY and INSERT … SELECT name. */
export const COLUMN_LIST = COLUMNS.map(({ column }) => column).join(', ');

/** Column definitions for CREATE TABLE; `withConstraints` false for a staging table. */
export function columnDefinitions(withConstraints: boolean): string {
  return COLUMNS.map((spec: ColumnSpec) => {
    const constraints = withConstraints && !spec.nullable ? ['NOT NULL'] : [];
    return `  ${spec.column.padEnd(9)} ${[spec.type, ...constraints].join(' ')}`;
  }).join(',\n');
}
