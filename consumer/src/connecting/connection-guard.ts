/**
 * Bounds on every wait on PostgreSQL, and the fencing of sessions a silent network left behind.
 *
 * The server bounds what it does itself: each statement (`statement_timeout`: a lock wait behind
 * someone's long transaction ends with 57014, which is retried, and the connection stays usable) and a
 * transaction left idle (`idle_in_transaction_session_timeout`). A server that does not answer at all
 * (a partition, a frozen host, a NAT that forgot the flow) is noticed here: a connection that receives
 * nothing for the statement timeout and a grace while work is in flight is destroyed, and the work fails
 * with a transient error, so the batch is retried, uncommitted, on a fresh connection.
 *
 * The session at the other end may still be alive in the middle of its COPY, holding the batch's rows
 * uncommitted; the retry would wait on them in the unique index until the server noticed (two hours by
 * default). So the abandoned session is remembered (host, pid) and ended with `pg_terminate_backend` from
 * the next connection to that host, before anything is written. Our sessions also ask the server to probe
 * their client (`tcp_keepalives_*`, `tcp_user_timeout`), so one that cannot be reached that way (the next
 * connection went to another host) ends by itself within half a minute.
 */
import { SilentConnectionError } from '@user-actions/shared/postgres/errors';
import type pg from 'pg';

/**
 * Ends the session of pid $1 if it is still there, waiting up to $2 ms for it to go: only a session of
 * the same user, never this one (a pid reused by someone else's session since is not ended).
 */
const END_STALE_SESSION = `
SELECT pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity
WHERE pid = $1 AND usename = current_user AND pid <> pg_backend_pid()`;

export interface DatabaseTimeouts {
  /** The server's statement_timeout (and idle-in-transaction timeout) for each of the consumer's sessions. */
  statementMs: number;
  /** How long opening a connection to one host may take. */
  connectMs: number;
}

export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = { statementMs: 30_000, connectMs: 10_000 };

/** How much longer than the server's own bound the client waits for a word before it gives up. */
export const SILENCE_GRACE_MS = 5_000;
/** Creating or adopting the tables at start (DDL, waiting on other consumers doing the same) may take longer. */
export const SCHEMA_TIMEOUT_FACTOR = 10;
/** The server probes an idle connection of ours after 10 s, every 5 s, and drops it after 3 unanswered. */
const SERVER_KEEPALIVE = { idleSeconds: 10, intervalSeconds: 5, count: 3 };
const SERVER_GIVES_UP_MS = (SERVER_KEEPALIVE.idleSeconds + SERVER_KEEPALIVE.intervalSeconds * SERVER_KEEPALIVE.count) * 1000;
/** The client's own TCP keepalive, for connections idle in the pool. */
const CLIENT_KEEPALIVE_MS = 10_000;
/** Work without a word from the server this long is reported (readiness), well before it is given up. */
export const QUIET_REPORT_MS = 5_000;
/** How long ending a stale session may wait for it to go. */
const FENCE_WAIT_MS = 5_000;

/** node-postgres options that bound connecting and set the session's server-side timeouts. */
export function connectionOptions(timeouts: DatabaseTimeouts) {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: CLIENT_KEEPALIVE_MS,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.statementMs,
    options: [
      `-c tcp_keepalives_idle=${SERVER_KEEPALIVE.idleSeconds}`,
      `-c tcp_keepalives_interval=${SERVER_KEEPALIVE.intervalSeconds}`,
      `-c tcp_keepalives_count=${SERVER_KEEPALIVE.count}`,
      `-c tcp_user_timeout=${SERVER_GIVES_UP_MS}`,
    ].join(' '),
  } satisfies pg.PoolConfig;
}

export { SilentConnectionError };

/** A session we abandoned that may still hold a batch's rows; `server` is the `host:port` it is on. */
interface StaleSession {
  server: string;
  pid: number;
}

/** The pieces of node-postgres' client this module uses that its types do not show. */
interface ClientInternals {
  processID: number | null;
  host: string;
  port: number;
  connection: { stream: NodeJS.EventEmitter & { destroy(): void } };
}

const serverOf = (client: ClientInternals) => `${client.host}:${client.port}`;

export type WorkKind = 'batch' | 'schema';

/**
 * Runs `work` on a connection of the pool: first ends this consumer's stale sessions on the same server,
 * then bounds the work by silence. A failed connection is closed, not returned to the pool.
 */
export interface ConnectionGuard {
  run<T>(kind: WorkKind, work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Sessions abandoned and not yet known to be gone. */
  readonly staleSessions: number;
  readonly timeouts: DatabaseTimeouts;
}

/**
 * Told when work has waited QUIET_REPORT_MS for the server (with what is waited for), and again (with
 * undefined) once no work is waiting that long any more.
 */
export type QuietListener = (waiting: string | undefined) => void;

export function guardConnections(
  pool: pg.Pool,
  timeouts: DatabaseTimeouts,
  onQuiet: QuietListener = () => undefined,
): ConnectionGuard {
  const stale: StaleSession[] = [];
  const quiet = quietWork(onQuiet);
  const silenceMs = (kind: WorkKind) => timeouts.statementMs * (kind === 'schema' ? SCHEMA_TIMEOUT_FACTOR : 1) + SILENCE_GRACE_MS;

  return {
    timeouts,
    get staleSessions() {
      return stale.length;
    },
    async run(kind, work) {
      const client = await pool.connect();
      const internals = client as unknown as ClientInternals;
      const server = serverOf(internals);
      // A connection that drops mid-statement is reported by the statement it fails; without a listener
      // the client's own 'error' event would end the process.
      client.on('error', ignoreClientError);
      const limitMs = silenceMs(kind);
      const inFlight = {};
      const silence = watchSilence(internals.connection.stream, limitMs, {
        quiet: () => quiet.waiting(inFlight, `PostgreSQL at ${server} has not answered for ${QUIET_REPORT_MS / 1000} s`),
        heard: () => quiet.heard(inFlight),
        silent: () => {
          if (internals.processID !== null) stale.push({ server, pid: internals.processID });
          return new SilentConnectionError(`PostgreSQL at ${server} sent nothing for ${limitMs} ms; the connection was closed`);
        },
      });
      try {
        const working = (async () => {
          if (stale.length > 0) await fence(client, stale);
          return work(client);
        })();
        // The work fails too once the socket is destroyed: that rejection is expected and not reported.
        working.catch(ignoreClientError);
        const result = await Promise.race([working, silence.given]);
        release(client, undefined);
        return result;
      } catch (error) {
        // Closing the connection rolls back whatever it had begun.
        release(client, error);
        throw error;
      } finally {
        silence.stop();
        quiet.heard(inFlight);
      }
    },
  };
}

/** Ends, from `client`, the stale sessions on its server; those that ended are forgotten. */
async function fence(client: pg.PoolClient, stale: StaleSession[]): Promise<void> {
  const here = stale.filter((session) => session.server === serverOf(client as unknown as ClientInternals));
  for (const session of here) {
    const { rows } = await client.query<{ ended: boolean }>(END_STALE_SESSION, [session.pid, FENCE_WAIT_MS]);
    if (rows[0]?.ended === false) {
      throw new SilentConnectionError(`an abandoned session (pid ${session.pid}) did not end within ${FENCE_WAIT_MS} ms`);
    }
    stale.splice(stale.indexOf(session), 1);
  }
}

/** The work waiting QUIET_REPORT_MS for the server: the listener hears of the first and of the last. */
function quietWork(onQuiet: QuietListener) {
  const quiet = new Set<object>();
  return {
    waiting(work: object, what: string) {
      quiet.add(work);
      if (quiet.size === 1) onQuiet(what);
    },
    heard(work: object) {
      if (quiet.delete(work) && quiet.size === 0) onQuiet(undefined);
    },
  };
}

interface SilenceHandlers {
  /** Nothing for QUIET_REPORT_MS. */
  quiet(): void;
  /** Something arrived: called at the start too. */
  heard(): void;
  /** Nothing for the limit: returns the error the work fails with. */
  silent(): Error;
}

/**
 * Re-arms two timers on every chunk the server sends: one reports the work quiet, the other gives the
 * connection up (its socket destroyed, `given` rejected) after `limitMs` of silence.
 */
function watchSilence(socket: ClientInternals['connection']['stream'], limitMs: number, on: SilenceHandlers) {
  let giveUp: (error: Error) => void = () => undefined;
  const given = new Promise<never>((_, reject) => {
    giveUp = reject;
  });
  let quietTimer: NodeJS.Timeout | undefined;
  let limitTimer: NodeJS.Timeout | undefined;
  const arm = () => {
    on.heard();
    clearTimeout(quietTimer);
    quietTimer = setTimeout(on.quiet, QUIET_REPORT_MS);
    clearTimeout(limitTimer);
    limitTimer = setTimeout(() => {
      const error = on.silent();
      socket.destroy();
      giveUp(error);
    }, limitMs);
  };
  arm();
  socket.on('data', arm);
  return {
    given,
    stop() {
      clearTimeout(limitTimer);
      clearTimeout(quietTimer);
      socket.off('data', arm);
    },
  };
}

function release(client: pg.PoolClient, error: unknown): void {
  client.off('error', ignoreClientError);
  client.release(error === undefined ? undefined : true);
}

function ignoreClientError(): void {}
