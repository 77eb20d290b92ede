/**
 * Which PostgreSQL failures are worth waiting out (the server is restarting, unreachable or
 * overloaded; a serialization conflict) and which need a person (credentials, a missing database,
 * permissions).
 */
import { FATAL_CODES, FatalError, isAbortError } from '../errors.js';
import { TLS_VERIFICATION_CODES } from '../wire-probe.js';
import { WrongSessionError } from './database-hosts.js';

/** A connection that stayed silent while work was in flight; transient: the work is retried on another. */
export class SilentConnectionError extends Error {
  override readonly name = 'SilentConnectionError';
}

/** The SQLSTATEs the daemons act on by name, beyond the classes below. */
export const SQLSTATE = {
  /** An event already stored (with generated ids, nothing else is unique). */
  uniqueViolation: '23505',
  /** A row with no partition to go to (or refused by a CHECK constraint). */
  checkViolation: '23514',
  /** A lock not had within lock_timeout. */
  lockNotAvailable: '55P03',
} as const;

const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '53']);
// 25006: a write on a read-only session, as on a primary that came back as a standby: the next
// connection looks for the writable host (shared/src/postgres/database-hosts.ts). 57014: our statement_timeout (a lock wait
// behind someone's long transaction, say), or an operator's pg_cancel_backend: tried again.
// 55P03: a lock not had within lock_timeout (partition maintenance sets one): tried again later.
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '40001', '40P01', '25006', SQLSTATE.lockNotAvailable]);
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// node-postgres reports a dropped socket or a slow connect with a message and no code.
const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client was closed and is not queryable|Client has encountered a connection error and is not queryable/i;

const UNTRUSTED_CERTIFICATE = "PostgreSQL's TLS certificate is not trusted; set DATABASE_CA_FILE to the CA that signed it";

const FATAL_EXPLANATIONS: Record<string, string> = {
  '28P01': 'PostgreSQL rejected the password (in DATABASE_URL, or PGPASSWORD when the URL has none)',
  '28000': 'PostgreSQL rejected the user in DATABASE_URL',
  '3D000': 'the database named in DATABASE_URL does not exist',
  '42501': 'the PostgreSQL user in DATABASE_URL lacks a permission it needs',
  // Node.js' verdicts on the server's certificate (the list the listener checks use), two in words of their own.
  ...Object.fromEntries([...TLS_VERIFICATION_CODES].map((code) => [code, UNTRUSTED_CERTIFICATE])),
  ERR_TLS_CERT_ALTNAME_INVALID: "PostgreSQL's TLS certificate does not name the host in DATABASE_URL",
  CERT_HAS_EXPIRED: "PostgreSQL's TLS certificate has expired",
};

/** The error's SQLSTATE (or Node.js' network code), if it has one. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isTransientPgError(error: Error): boolean {
  if (error instanceof WrongSessionError || error instanceof SilentConnectionError) return true;
  const code = codeOf(error);
  if (code !== undefined) {
    if (TRANSIENT_NETWORK_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
    if (code.length === 5 && TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return true;
  }
  if (error instanceof AggregateError) return error.errors.some((inner) => inner instanceof Error && isTransientPgError(inner));
  return TRANSIENT_MESSAGES.test(error.message);
}

/**
 * What to throw when a PostgreSQL operation gives up: a stop (abort) or a FatalError as it is, any other
 * failure as a FatalError that says what to fix.
 */
export function givingUp(error: unknown): unknown {
  if (!(error instanceof Error) || isAbortError(error) || error instanceof FatalError) return error;
  return toFatalPgError(error);
}

/** Wraps a failure that will not go away by itself into a FatalError that says what to fix. */
export function toFatalPgError(error: Error): FatalError {
  const code = codeOf(error);
  const explanation = (code && FATAL_EXPLANATIONS[code]) ?? 'PostgreSQL refused the request';
  return new FatalError(`${explanation} (${code ?? 'no SQLSTATE'}: ${error.message})`, {
    code: code !== undefined && TLS_VERIFICATION_CODES.has(code) ? FATAL_CODES.misconfigured : FATAL_CODES.postgresRefused,
    cause: error,
  });
}

// Data exceptions (22: a timestamp out of range, say), integrity violations (23) and program limits
// (54: a value too large): the row is at fault, not the server.
const ROW_DATA_SQLSTATE_CLASSES = new Set(['22', '23', '54']);

/** The statement failed because of a value in it: retrying the same rows will fail again. */
export function isRowDataError(error: Error): boolean {
  const code = codeOf(error);
  return code !== undefined && code.length === 5 && ROW_DATA_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

const OUTAGE_EXPLANATIONS: Record<string, string> = {
  '53100': "PostgreSQL's disk is full",
  '53200': 'PostgreSQL is out of memory',
  '53300': 'PostgreSQL has no connection slot free',
  '57014': 'a statement ran past its statement timeout (a lock held by another session?)',
  '57P03': 'PostgreSQL is starting up or shutting down',
  '25006': 'PostgreSQL is read-only (a standby?)',
};

/** What an operator reads in `/readyz` and the summary log while PostgreSQL fails: the kind of fault first. */
export function outageReason(error: Error): string {
  const code = codeOf(error);
  const kind =
    error instanceof SilentConnectionError
      ? 'PostgreSQL does not answer (a network partition?)'
      : ((code && OUTAGE_EXPLANATIONS[code]) ?? 'PostgreSQL unavailable');
  return `${kind}: ${error.message}`;
}
