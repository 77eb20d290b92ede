/**
 * The events table's name, which the consumer writes and the API reads: `DATABASE_TABLE` and
 * `DATABASE_SCHEMA` set it for both, validated as plain lower-case identifiers, the only names that ever
 * appear in the SQL text.
 */
import { z } from 'zod';
import { setting } from '../config.js';

/** Lower-case letters, digits and underscores, not starting with a digit, at most 63 bytes (PostgreSQL's limit). */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export interface TableName {
  /** Unset: the connection's current schema (the first of its search_path, normally `public`). */
  schema?: string;
  name: string;
}

export const DEFAULT_TABLE: TableName = { name: 'useractions' };

export function quoted(identifier: string): string {
  if (!IDENTIFIER.test(identifier)) throw new Error(`not a plain identifier: ${JSON.stringify(identifier)}`);
  return `"${identifier}"`;
}

/** `"schema"."name"`, or `"name"` in the connection's current schema. */
export function qualifiedTable({ schema, name }: TableName): string {
  return schema === undefined ? quoted(name) : `${quoted(schema)}.${quoted(name)}`;
}

const identifierSchema = z
  .string()
  .regex(IDENTIFIER, 'must be a plain identifier: a-z, 0-9 and _, not starting with a digit, at most 63');

export const tableSettings = {
  tableName: setting('DATABASE_TABLE', identifierSchema.default(DEFAULT_TABLE.name).describe('Table of the events')),
  tableSchema: setting(
    'DATABASE_SCHEMA',
    identifierSchema.optional().describe("Schema of the table (default: the connection's current schema)"),
  ),
};

/** The per-second tally is a ring of this many one-second slots (consumer/src/sql/tally-sql.ts). */
export const RING_SECONDS = 7_200;

/**
 * The tallies kept beside the table by triggers the consumer's migration makes: events per UTC minute
 * and action for as long as the events are kept, and per second for the last hour (the live page).
 */
export function talliesOf({ schema, name }: TableName): { perMinute: string; perSecond: string } {
  const beside = (suffix: string) =>
    qualifiedTable({ ...(schema !== undefined && { schema }), name: `${name.slice(0, 63 - suffix.length)}${suffix}` });
  return { perMinute: beside('_per_minute'), perSecond: beside('_per_second') };
}
