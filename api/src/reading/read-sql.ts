/**
 * Every statement the API runs. PostgreSQL renders each event as the JSON the API sends (one text per
 * row, never an object in between), in the original system's member order and its lowercase keys, and
 * its timestamp in UTC with microseconds, which is also what a page's cursor holds. Values travel as
 * parameters, except in the exports and counts: COPY takes none, so their values (checked by the
 * routes' schemas first) are written in escaped by node-postgres' `escapeLiteral`.
 */

import type { Action } from '@user-actions/shared/event/schema';
import { qualifiedTable, RING_SECONDS, type TableName, talliesOf } from '@user-actions/shared/postgres/table-name';
import pg from 'pg';

/** Which events: both bounds inclusive (ISO-8601 text PostgreSQL parses), one user, some actions. */
export interface EventFilter {
  start?: string;
  end?: string;
  userId?: string;
  actions?: readonly Action[];
}

/** The whole minutes of a range, [from, to), as UTC texts. */
export interface WholeMinutes {
  from: string;
  to: string;
}

/** The position after a page's last row, in the order `("timestamp", id)`. */
export interface Keyset {
  timestamp: string;
  id: string;
}

export interface Statement {
  /** Set for the statements run on every request: each connection parses and plans them once. */
  name?: string;
  text: string;
  values: unknown[];
}

/** A name per distinct text: a filter's combination of conditions makes one of a few dozen. */
const names = new Map<string, string>();
function prepared(statement: Statement): Statement {
  let name = names.get(statement.text);
  if (name === undefined) {
    name = `read-${names.size}`;
    names.set(statement.text, name);
  }
  return { ...statement, name };
}

export const BUCKETS = ['minute', 'hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

const UTC_TEXT = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The event's members, the original's five first, then what this pipeline adds: the member, the
 * column's expression, and how its value is written (ids, UTC times and numbers need no escaping).
 */
const EVENT_MEMBERS: [member: string, expression: string, kind: 'plain' | 'text' | 'number' | 'json'][] = [
  ['userid', 'userid', 'plain'],
  ['action', 'action', 'text'],
  ['ipaddress', 'ipaddress', 'text'],
  ['device', 'device', 'text'],
  ['timestamp', UTC_TEXT('"timestamp"'), 'plain'],
  ['id', 'id', 'number'],
  ['eventid', 'event_id', 'plain'],
  ['metadata', 'metadata', 'json'],
];

/**
 * An event's compact JSON text, written by concatenation: the same text as `row_to_json` of those
 * members, in about three quarters of its time (docs/api.md).
 */
const EVENT_JSON = `concat('{', ${EVENT_MEMBERS.map(([member, expression, kind], index) => {
  const name = `'${index === 0 ? '' : ','}"${member}":`;
  if (kind === 'plain') return `${name}"', ${expression}, '"'`;
  if (kind === 'number') return `${name}', ${expression}`;
  if (kind === 'text') return `${name}', coalesce(to_json(${expression})::text, 'null')`;
  return `${name}', coalesce(${expression}::text, 'null')`;
}).join(', ')}, '}')`;

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

/** A statement's values written into its text, for COPY, which takes no parameters. */
function writtenIn({ text, values }: Statement): string {
  return text.replace(/\$(\d+)/g, (_, index: string) => {
    const value = values[Number(index) - 1];
    if (Array.isArray(value)) return `ARRAY[${value.map((item) => pg.escapeLiteral(String(item))).join(', ')}]::text[]`;
    return pg.escapeLiteral(String(value));
  });
}

/** The same WHERE clause with its values written in, for COPY. */
function literalWhere(filter: EventFilter): string {
  const values: unknown[] = [];
  return writtenIn({ text: where(filter, values), values });
}

/**
 * COPY's CSV format with a quote and a delimiter that JSON text never holds (it escapes every control
 * character): each line comes out as the text it is.
 */
const AS_TEXT_LINES = `WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;

/** The events themselves: a page, a stream, the exports. */
function eventsSql(table: string) {
  return {
    /** One page: a row more than asked for says whether there is a next page. */
    page(filter: EventFilter, after: Keyset | undefined, limit: number): Statement {
      const values: unknown[] = [];
      const clause = where(filter, values, after);
      values.push(limit + 1);
      return prepared({
        text: `SELECT ${EVENT_JSON} AS json, ${UTC_TEXT('"timestamp"')} AS ts, id::text AS id
FROM ${table} ${clause} ORDER BY ${table}."timestamp", id LIMIT $${values.length}`,
        values,
      });
    },

    /** Every matching event, for a stream read through a cursor. */
    all(filter: EventFilter): Statement {
      const values: unknown[] = [];
      return {
        text: `SELECT ${EVENT_JSON} AS json FROM ${table} ${where(filter, values)} ORDER BY ${table}."timestamp", id`,
        values,
      };
    },

    /** One event's JSON per line, straight from PostgreSQL, each as the pages send it. */
    copyNdjson(filter: EventFilter): string {
      return `COPY (SELECT ${EVENT_JSON} FROM ${table} ${literalWhere(filter)} ORDER BY ${table}."timestamp", id)
TO STDOUT ${AS_TEXT_LINES}`;
    },

    /** CSV with a header, straight from PostgreSQL. */
    copyCsv(filter: EventFilter): string {
      return `COPY (SELECT ${CSV_SELECT} FROM ${table} ${literalWhere(filter)} ORDER BY ${table}."timestamp", id)
TO STDOUT WITH (FORMAT csv, HEADER true)`;
    },
  } as const;
}

/** Counts per bucket and action, from the per-minute tally and the events at a range's ends. */
function countsSql(table: string, tallies: Tallies) {
  return {
    /**
     * Events per bucket and action, as the lines of a JSON array's members (`{start, action, count}`,
     * each after the first led by a comma), by COPY: a day of minutes is 23,040 of them, which PostgreSQL
     * writes as text faster than as JSON values and which reach the client without being gathered in
     * one string on either side. Buckets start on the UTC minute, hour or day (the API's sessions run in
     * UTC, so date_trunc cuts there). Given the range's whole `minutes`, they come from the per-minute
     * tally and only the parts of a minute at its ends from the events (at most two minutes of them);
     * without (a user's counts), everything is counted from the table.
     */
    copyCounts(filter: EventFilter, bucket: Bucket, minutes?: WholeMinutes): string {
      const values: unknown[] = [];
      if (minutes === undefined || filter.start === undefined || filter.end === undefined) {
        const clause = where(filter, values);
        return writtenIn({
          text: countsAsJson(`WITH buckets AS (
  SELECT date_trunc('${bucket}', "timestamp") AS bucket, action, count(*) AS count FROM ${table} ${clause} GROUP BY 1, 2)`),
          values,
        });
      }
      return writtenIn(talliedCounts(table, tallies, { ...filter, start: filter.start, end: filter.end }, bucket, minutes));
    },

    /**
     * The whole minutes between two bounds, [from, to) (from = to when there is none), by PostgreSQL's
     * reading of the bounds (any zone, microseconds): the minutes a count takes from the tally.
     */
    wholeMinutes(start: string, end: string): Statement {
      return prepared({
        text: `SELECT ${UTC_TEXT('lo')} AS "from", ${UTC_TEXT('greatest(lo, hi)')} AS "to" FROM (
  SELECT date_trunc('minute', s) + CASE WHEN date_trunc('minute', s) < s THEN interval '1 minute' ELSE interval '0' END AS lo,
         date_trunc('minute', e + interval '1 microsecond') AS hi
  FROM (SELECT $1::timestamptz AS s, $2::timestamptz AS e) AS bounds) AS edges`,
        values: [start, end],
      });
    },
  } as const;
}

/** The lines of the counts' JSON array, one per bucket and action, from a `buckets` CTE. */
function countsAsJson(buckets: string): string {
  return `COPY (${buckets}
SELECT concat(CASE WHEN row_number() OVER (ORDER BY bucket, action) > 1 THEN ',' END,
  '{"start":"', ${UTC_TEXT('bucket')}, '","action":', to_json(action), ',"count":', count, '}')
FROM buckets ORDER BY bucket, action) TO STDOUT ${AS_TEXT_LINES}`;
}

/** Counts of a range with whole minutes: those from the per-minute tally, its ends' parts of a minute from the events. */
function talliedCounts(
  table: string,
  tallies: Tallies,
  filter: EventFilter & { start: string; end: string },
  bucket: Bucket,
  minutes: WholeMinutes,
): Statement {
  // The bounds written in as constants: PostgreSQL plans only the partitions each part reads.
  const values: unknown[] = [filter.start, filter.end, minutes.from, minutes.to];
  if (filter.actions !== undefined) values.push(filter.actions);
  const actions = filter.actions === undefined ? '' : 'AND action = ANY($5::text[])';
  const edge = (range: string) => `
  UNION ALL
  SELECT date_trunc('minute', "timestamp") AS minute, action, count(*) AS events FROM ${table} WHERE ${range} ${actions} GROUP BY 1, 2`;
  // A tally's minute is one row, and no end's minute is one of them: minutes need no grouping.
  const buckets =
    bucket === 'minute'
      ? 'SELECT minute AS bucket, action, events AS count FROM parts WHERE events <> 0'
      : `SELECT date_trunc('${bucket}', minute) AS bucket, action, sum(events) AS count FROM parts GROUP BY 1, 2 HAVING sum(events) <> 0`;
  return {
    text: countsAsJson(`WITH parts AS (
  SELECT minute, action, events FROM ${tallies.perMinute} WHERE minute >= $3::timestamptz AND minute < $4::timestamptz ${actions}
  ${edge('"timestamp" >= $1::timestamptz AND "timestamp" < $3::timestamptz')}
  ${edge('"timestamp" >= $4::timestamptz AND "timestamp" <= $2::timestamptz')}),
buckets AS (${buckets})`),
    values,
  };
}

/** The live page's tick, and the probe of what the API reads. */
function liveSql(table: string, tallies: Tallies) {
  return {
    /**
     * The live page's one query per tick, by PostgreSQL's clock: events per second and action over the
     * chart's last $1 seconds and per action over the last $2 minutes (the tallies), the newest $3 events
     * (no IP address: the page is public) and the newest stored timestamp (the primary key's
     * ("timestamp", id) order walked from its end). The per-second ring is read by its slots.
     */
    live: `SELECT json_build_object(
  'now', extract(epoch FROM now()),
  'perSecond', (SELECT coalesce(json_agg(json_build_object('second', extract(epoch FROM second)::bigint, 'action', action, 'count', count)), '[]')
    FROM (SELECT second, action, events AS count FROM ${tallies.perSecond}
          WHERE slot IN (SELECT (extract(epoch FROM g)::bigint % ${RING_SECONDS})::int
                         FROM generate_series(date_trunc('second', now()) - make_interval(secs => $1), now(), interval '1 second') AS g)
            AND second >= date_trunc('second', now()) - make_interval(secs => $1) AND events <> 0) AS s),
  'perAction', (SELECT coalesce(json_object_agg(action, count), '{}') FROM (
      SELECT action, sum(events)::int AS count FROM ${tallies.perMinute}
      WHERE minute >= date_trunc('minute', now()) - make_interval(mins => $2 - 1) GROUP BY 1) AS a),
  'newest', (SELECT coalesce(json_agg(n ORDER BY n.timestamp DESC, n.id DESC), '[]') FROM (
      SELECT id, left(userid::text, 8) AS user, action, device, ${UTC_TEXT('"timestamp"')} AS timestamp
      FROM ${table} ORDER BY ${table}."timestamp" DESC, id DESC LIMIT $3) AS n),
  'newestAt', (SELECT ${UTC_TEXT('max("timestamp")')} FROM ${table})
)::text AS json`,

    /** Whether the table and its tallies are there and readable: readiness, and a clear line at start. */
    probe: `SELECT 1 FROM ${table}, ${tallies.perMinute}, ${tallies.perSecond} LIMIT 0`,
  } as const;
}

type Tallies = ReturnType<typeof talliesOf>;

export function readSqlFor(tableName: TableName) {
  const table = qualifiedTable(tableName);
  const tallies = talliesOf(tableName);
  return { ...eventsSql(table), ...countsSql(table, tallies), ...liveSql(table, tallies) } as const;
}

export type ReadSql = ReturnType<typeof readSqlFor>;
