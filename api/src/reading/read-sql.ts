/**
 * Every statement the API runs. PostgreSQL renders each event as the JSON the API sends (one text per
 * row, never an object in between), in the original system's member order and its lowercase keys, and
 * its timestamp in UTC with microseconds, which is also what a page's cursor holds. Values travel as
 * parameters, except in the CSV export: COPY takes none, so its values (checked by the routes' schemas
 * first) are written in escaped by node-postgres' `escapeLiteral`.
 */

import { qualifiedTable, type TableName } from '@user-actions/shared/postgres/table-name';
import type { Action } from '@user-actions/shared/schema';
import pg from 'pg';

/** Which events: both bounds inclusive (ISO-8601 text PostgreSQL parses), one user, some actions. */
export interface EventFilter {
  start?: string;
  end?: string;
  userId?: string;
  actions?: readonly Action[];
}

/** The position after a page's last row, in the order `("timestamp", id)`. */
export interface Keyset {
  timestamp: string;
  id: string;
}

export interface Statement {
  text: string;
  values: unknown[];
}

export const BUCKETS = ['minute', 'hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

const UTC_TEXT = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The event's members, the original's five first, then what this pipeline adds; `row_to_json` of them
 * is the event's compact JSON text.
 */
const EVENT_MEMBERS = `userid, action, ipaddress, device, ${UTC_TEXT('"timestamp"')} AS "timestamp", id, event_id AS eventid, metadata`;

/** The CSV's header is these names, in this order. */
export const CSV_COLUMNS = ['id', 'eventid', 'userid', 'action', 'ipaddress', 'device', 'timestamp', 'metadata'] as const;

const CSV_SELECT = `id, event_id AS eventid, userid, action, ipaddress, device, ${UTC_TEXT('"timestamp"')} AS "timestamp", metadata`;

/** The WHERE clause for a filter, its values numbered from `values.length + 1`. */
function where(filter: EventFilter, values: unknown[], after?: Keyset): string {
  const conditions: string[] = [];
  const next = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.start !== undefined) conditions.push(`"timestamp" >= ${next(filter.start)}::timestamptz`);
  if (filter.end !== undefined) conditions.push(`"timestamp" <= ${next(filter.end)}::timestamptz`);
  if (filter.userId !== undefined) conditions.push(`userid = ${next(filter.userId)}::uuid`);
  if (filter.actions !== undefined) conditions.push(`action = ANY(${next(filter.actions)}::text[])`);
  if (after !== undefined) {
    conditions.push(`("timestamp", id) > (${next(after.timestamp)}::timestamptz, ${next(after.id)}::bigint)`);
  }
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** The same WHERE clause with its values written in, for COPY. */
function literalWhere(filter: EventFilter): string {
  const values: unknown[] = [];
  const clause = where(filter, values);
  return clause.replace(/\$(\d+)/g, (_, index: string) => {
    const value = values[Number(index) - 1];
    if (Array.isArray(value)) return `ARRAY[${value.map((item) => pg.escapeLiteral(String(item))).join(', ')}]::text[]`;
    return pg.escapeLiteral(String(value));
  });
}

export function readSqlFor(tableName: TableName) {
  const table = qualifiedTable(tableName);
  return {
    /** One page: a row more than asked for says whether there is a next page. */
    page(filter: EventFilter, after: Keyset | undefined, limit: number): Statement {
      const values: unknown[] = [];
      const clause = where(filter, values, after);
      values.push(limit + 1);
      return {
        text: `SELECT row_to_json(e)::text AS json, e."timestamp" AS ts, e.id::text AS id FROM (
  SELECT ${EVENT_MEMBERS} FROM ${table} ${clause} ORDER BY ${table}."timestamp", id LIMIT $${values.length}) AS e`,
        values,
      };
    },

    /** Every matching event, for a stream read through a cursor. */
    all(filter: EventFilter): Statement {
      const values: unknown[] = [];
      return {
        text: `SELECT row_to_json(e)::text AS json FROM (
  SELECT ${EVENT_MEMBERS} FROM ${table} ${where(filter, values)} ORDER BY ${table}."timestamp", id) AS e`,
        values,
      };
    },

    /** CSV with a header, straight from PostgreSQL. */
    copyCsv(filter: EventFilter): string {
      return `COPY (SELECT ${CSV_SELECT} FROM ${table} ${literalWhere(filter)} ORDER BY ${table}."timestamp", id)
TO STDOUT WITH (FORMAT csv, HEADER true)`;
    },

    /**
     * Events per bucket and action; buckets start on the UTC minute, hour or day (the API's sessions run
     * in UTC, so date_trunc cuts there). Grouped first and formatted after: a bucket's text is made once,
     * not once a row.
     */
    counts(filter: EventFilter, bucket: Bucket): Statement {
      const values: unknown[] = [];
      const clause = where(filter, values);
      return {
        text: `SELECT ${UTC_TEXT('bucket')} AS start, action, count FROM (
  SELECT date_trunc('${bucket}', "timestamp") AS bucket, action, count(*)::int AS count
  FROM ${table} ${clause} GROUP BY 1, 2) AS b
ORDER BY bucket, action`,
        values,
      };
    },

    /**
     * The live page's one query per tick: events per second and action over the last $1 seconds (the
     * feed keeps the older seconds it read before), the newest $2 events (no IP address: the page is
     * public), and the newest stored timestamp, all by PostgreSQL's clock. Each part walks the primary
     * key's ("timestamp", id) order from its end, so a tick costs what the last seconds hold.
     */
    live: `SELECT json_build_object(
  'now', extract(epoch FROM now()),
  'perSecond', (SELECT coalesce(json_agg(json_build_object('second', extract(epoch FROM second)::bigint, 'action', action, 'count', count)), '[]')
    FROM (SELECT date_trunc('second', "timestamp") AS second, action, count(*)::int AS count
          FROM ${table} WHERE "timestamp" >= date_trunc('second', now()) - make_interval(secs => $1) GROUP BY 1, 2) AS s),
  'newest', (SELECT coalesce(json_agg(n ORDER BY n.timestamp DESC, n.id DESC), '[]') FROM (
      SELECT id, left(userid::text, 8) AS user, action, device, ${UTC_TEXT('"timestamp"')} AS timestamp
      FROM ${table} ORDER BY ${table}."timestamp" DESC, id DESC LIMIT $2) AS n),
  'newestAt', (SELECT ${UTC_TEXT('max("timestamp")')} FROM ${table})
)::text AS json`,

    /** Whether the table is there and readable: readiness, and a clear line at start. */
    probe: `SELECT 1 FROM ${table} LIMIT 0`,
  } as const;
}

export type ReadSql = ReturnType<typeof readSqlFor>;
