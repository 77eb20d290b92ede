/**
 * The query parameters, as the routes' zod schemas: they validate, turn text into values, and are the
 * OpenAPI document's description of each. The original system's names and time formats are kept.
 */
import { ACTIONS, type Action } from '@user-actions/shared/event/schema';
import { z } from 'zod';
import { BUCKETS } from '../reading/read-sql.js';
import { decodeCursor } from './cursor.js';

/** The most events one page holds; more is what the stream (no `limit`) is for. */
export const MAX_LIMIT = 1_000;
/** The most buckets one count answers: a week of minutes, 19 years of days. */
export const MAX_BUCKETS = 10_080;

// ISO 8601 as the original's clients send it: a date, or a date and a time (T or a space), seconds and a
// fraction optional, a zone optional (none is UTC, as the original reads it).
const TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A bound in a form both PostgreSQL and `Date` read the same way, and its instant. */
export interface TimeBound {
  text: string;
  ms: number;
}

export function parseTimeBound(value: string): TimeBound | undefined {
  const match = TIME.exec(value.trim());
  if (!match) return undefined;
  const [, date = '', time = '00:00:00', zone = 'Z'] = match;
  // Date rolls 2026-02-30 over into March; PostgreSQL refuses it. Neither is what the client meant.
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day || month < 1 || month > 12) return undefined;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 3 ? `${zone}:00` : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  const text = `${date}T${time.length === 5 ? `${time}:00` : time}${offset}`;
  // Date reads milliseconds only; PostgreSQL gets the text, with every digit.
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : { text, ms };
}

const timeBound = z
  .string()
  .transform((value, context) => {
    const bound = parseTimeBound(value);
    if (bound === undefined) {
      context.addIssue({
        code: 'custom',
        message: 'must be an ISO 8601 date or time, such as 2026-12-01T08:00:00Z (no zone: UTC)',
      });
      return z.NEVER;
    }
    return bound;
  })
  .optional();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const actionList = z
  .union([z.string(), z.array(z.string())])
  .transform((value, context) => {
    const names = (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((name) => name.trim());
    const unknown = names.filter((name) => !(ACTIONS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `${unknown.join(', ')}: not an action; the actions are ${ACTIONS.join(', ')}`,
      });
      return z.NEVER;
    }
    return [...new Set(names)] as Action[];
  })
  .optional()
  .describe('One or several of the 16 actions, comma-separated or repeated');

/** The filters every read takes. */
export const filterQuery = {
  startTimeStamp: timeBound.describe('Earliest timestamp, inclusive (ISO 8601; no zone: UTC)'),
  endTimeStamp: timeBound.describe('Latest timestamp, inclusive (ISO 8601; no zone: UTC)'),
  userId: z.string().regex(UUID, 'must be a UUID').optional().describe("One user's events"),
  action: actionList,
};

export const listQuery = z.object({
  ...filterQuery,
  limit: z.coerce
    .number({ error: `must be a whole number from 1 to ${MAX_LIMIT}` })
    .int(`must be a whole number from 1 to ${MAX_LIMIT}`)
    .min(1, `must be a whole number from 1 to ${MAX_LIMIT}`)
    .max(MAX_LIMIT, `must be a whole number from 1 to ${MAX_LIMIT}; for more, leave limit out and the range is streamed`)
    .optional()
    .describe(`Page size, 1 to ${MAX_LIMIT}; without it the whole range is streamed`),
  cursor: z
    .string()
    .transform((value, context) => {
      const keyset = decodeCursor(value);
      if (keyset === undefined) {
        context.addIssue({ code: 'custom', message: 'is not a cursor this API gave (take it from the Link header)' });
        return z.NEVER;
      }
      return keyset;
    })
    .optional()
    .describe('Where the next page starts: the Link header\'s rel="next" carries it'),
});

export const countsQuery = z.object({
  ...filterQuery,
  bucket: z.enum(BUCKETS).default('hour').describe('Width of each count: minute, hour or day (UTC)'),
});

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;

export const exportQuery = z.object({
  ...filterQuery,
  format: z.enum(EXPORT_FORMATS).default('ndjson').describe('csv (a header line, then one row per event) or ndjson'),
});
