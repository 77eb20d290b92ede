/**
 * Reading events out of PostgreSQL: a page by keyset, a whole range as a stream of JSON texts through a
 * cursor (flat memory whatever its size), a range as CSV by COPY, counts per bucket. A stream holds one
 * connection while it runs and gives it back when it ends, fails or its client goes away.
 */
import { pipeline, type Readable, Transform } from 'node:stream';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import QueryStream from 'pg-query-stream';
import { SILENCE_GRACE_MS } from './read-pool.js';
import type { Bucket, EventFilter, Keyset, ReadSql, Statement, WholeMinutes } from './read-sql.js';

/** Rows fetched per round trip of a stream, and joined into one chunk of the response. */
const STREAM_BATCH = 500;
/** The size of a chunk of a COPY's output passed on to the response. */
const COPY_CHUNK_BYTES = 64 * 1024;

export interface Page {
  /** Each event's JSON text. */
  events: string[];
  /** Where the next page starts; none when this page is the last. */
  next?: Keyset;
}

export interface EventReader {
  page(filter: EventFilter, after: Keyset | undefined, limit: number): Promise<Page>;
  /** The counts as a JSON array's members, `{start, action, count}` by bucket and action, streamed. */
  counts(filter: EventFilter, bucket: Bucket): Promise<Readable>;
  /** Every matching event's JSON text, in order, in chunks of up to a fetch's rows. */
  stream(filter: EventFilter): AsyncGenerator<string[]>;
  /** The range as CSV with a header; the connection is held until the stream ends. */
  csv(filter: EventFilter): Promise<Readable>;
  /** The range as NDJSON, each line as a page sends the event; the same. */
  ndjson(filter: EventFilter): Promise<Readable>;
}

interface SocketOf {
  connection: { stream: { destroy(error?: Error): void } };
}

/** Drops the connection when PostgreSQL sends nothing for `ms`; `touch` on every sign of life. */
function silenceGuard(client: pg.PoolClient, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => (client as unknown as SocketOf).connection.stream.destroy(new Error(`PostgreSQL sent nothing for ${ms} ms`)),
      ms,
    );
  };
  touch();
  return { touch, clear: () => clearTimeout(timer) };
}

/**
 * A connection for a stream, in a read-only transaction whose statements may run `ms`: a cursor's
 * fetches are one statement to PostgreSQL's timeout, so a stream's whole length is bounded by the export
 * timeout, each wait for rows by the silence guard.
 */
async function streamingClient(pool: pg.Pool, ms: number): Promise<pg.PoolClient> {
  const client = await pool.connect();
  try {
    // Idle in its transaction too while a slow client takes what PostgreSQL has already sent.
    const timeout = Math.trunc(ms);
    await client.query(
      `BEGIN READ ONLY; SET LOCAL statement_timeout = ${timeout}; SET LOCAL idle_in_transaction_session_timeout = ${timeout}`,
    );
    return client;
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
}

/**
 * node-postgres gives up on a query that has not ended within the pool's `query_timeout` (a page's
 * bound); a stream's own is its statement's timeout, read from the query object itself.
 */
function longRead<Query extends object>(query: Query, timeoutMs: number): Query {
  return Object.assign(query, { query_timeout: timeoutMs + SILENCE_GRACE_MS });
}

async function commitAndRelease(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    client.release(error as Error);
  }
}

type ReadTimeouts = { queryMs: number; exportMs: number };

export function createEventReader(pool: pg.Pool, sql: ReadSql, timeouts: ReadTimeouts): EventReader {
  // PostgreSQL silent past a query's own bound: the connection is given up (a network partition).
  const silenceMs = timeouts.queryMs + SILENCE_GRACE_MS;
  return {
    async page(filter, after, limit) {
      const { rows } = await pool.query<{ json: string; ts: string; id: string }>(sql.page(filter, after, limit));
      const last = rows[limit - 1];
      return {
        events: rows.slice(0, limit).map((row) => row.json),
        ...(rows.length > limit && last !== undefined && { next: { timestamp: last.ts, id: last.id } }),
      };
    },

    // A count is bounded by the query timeout, a stream of events by the export timeout.
    async counts(filter, bucket) {
      const { start, end, userId } = filter;
      const minutes =
        userId === undefined && start !== undefined && end !== undefined
          ? (await pool.query<WholeMinutes>(sql.wholeMinutes(start, end))).rows[0]
          : undefined;
      return copyOut(pool, sql.copyCounts(filter, bucket, minutes), timeouts.queryMs, silenceMs);
    },

    stream: (filter) => streamEvents(pool, sql.all(filter), timeouts),

    csv: (filter) => copyOut(pool, sql.copyCsv(filter), timeouts.exportMs, silenceMs),
    ndjson: (filter) => copyOut(pool, sql.copyNdjson(filter), timeouts.exportMs, silenceMs),
  };
}

/** Every matching event's JSON through a cursor, in chunks, on a connection of its own. */
async function* streamEvents(pool: pg.Pool, { text, values }: Statement, timeouts: ReadTimeouts): AsyncGenerator<string[]> {
  const client = await streamingClient(pool, timeouts.exportMs);
  const rows = client.query(
    longRead(new QueryStream(text, values, { batchSize: STREAM_BATCH, rowMode: 'array' }), timeouts.exportMs),
  );
  const silence = silenceGuard(client, timeouts.queryMs + SILENCE_GRACE_MS);
  let finished = false;
  let failure: Error | undefined;
  try {
    let chunk: string[] = [];
    for await (const row of rows as AsyncIterable<[string]>) {
      silence.touch();
      chunk.push(row[0]);
      if (chunk.length === STREAM_BATCH) {
        // Waiting for the client, however slow, is no silence of PostgreSQL's.
        silence.clear();
        yield chunk;
        chunk = [];
        silence.touch();
      }
    }
    silence.clear();
    if (chunk.length > 0) yield chunk;
    finished = true;
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    silence.clear();
    // Ended early (the client went away) or failed: the connection is mid-query, so it is not reused.
    if (!finished) rows.destroy();
    if (finished) await commitAndRelease(client);
    else client.release(failure ?? true);
  }
}

/** A COPY … TO STDOUT as a stream, through a connection of its own. */
async function copyOut(pool: pg.Pool, statement: string, timeoutMs: number, silenceMs: number): Promise<Readable> {
  const client = await streamingClient(pool, timeoutMs);
  const copy = client.query(longRead(copyTo(statement), timeoutMs));
  const silence = silenceGuard(client, silenceMs);
  // COPY sends a message a row: gathered into larger chunks, which the response writes at once.
  let gathered: Buffer[] = [];
  let bytes = 0;
  const output = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      silence.touch();
      gathered.push(chunk);
      bytes += chunk.length;
      if (bytes < COPY_CHUNK_BYTES) return callback();
      const whole = Buffer.concat(gathered, bytes);
      gathered = [];
      bytes = 0;
      callback(null, whole);
    },
    flush(callback) {
      callback(null, bytes > 0 ? Buffer.concat(gathered, bytes) : undefined);
    },
  });
  // PostgreSQL has sent it all: what is left waits for the client, however slow, not for PostgreSQL.
  copy.once('end', () => silence.clear());
  // Ended, failed, or its client went away (which destroys the COPY: that connection is not reused).
  pipeline(copy, output, (error) => {
    silence.clear();
    if (error) client.release(error);
    else void commitAndRelease(client);
  });
  return output;
}
