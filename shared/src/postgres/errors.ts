/**
 * PostgreSQL's failures and their verdicts, in one table: which are worth waiting out (the server is
 * restarting, unreachable or overloaded; a serialization conflict) and which need a person
 * (credentials, a missing database, permissions), each with what an operator reads.
 */
import { codeOf, FATAL_CODES, type FatalCode, fatalVerdict, TransientError, transientVerdict, type Verdict } from '../errors.js';
import { TLS_VERIFICATION_CODES } from '../wire-probe.js';

/** A connection that stayed silent while work was in flight: the work is retried on another. */
export class SilentConnectionError extends TransientError {
  override readonly name = 'SilentConnectionError';
  constructor(detail: string) {
    super(`PostgreSQL does not answer (a network partition?): ${detail}`);
  }
}

/** The SQLSTATEs the daemons act on by name, beyond their verdicts. */
export const SQLSTATE = {
  /** An event already stored (with generated ids, nothing else is unique). */
  uniqueViolation: '23505',
  /** A row with no partition to go to (or refused by a CHECK constraint). */
  checkViolation: '23514',
  /** A lock not had within lock_timeout. */
  lockNotAvailable: '55P03',
  /** A relation that does not exist. */
  undefinedTable: '42P01',
} as const;

const transient = (explanation: string) => transientVerdict(explanation);
const fatal = (explanation: string, code: FatalCode = FATAL_CODES.postgresRefused) => fatalVerdict(explanation, code);

const UNAVAILABLE = transient('PostgreSQL unavailable');
const REFUSED = fatal('PostgreSQL refused the request');
const UNTRUSTED = fatal(
  "PostgreSQL's TLS certificate is not trusted; set DATABASE_CA_FILE to the CA that signed it",
  FATAL_CODES.misconfigured,
);

/** By SQLSTATE, or by Node.js' code for a network or certificate failure. */
const BY_CODE: Record<string, Verdict> = {
  '28P01': fatal('PostgreSQL rejected the password (in DATABASE_URL, or PGPASSWORD when the URL has none)'),
  '28000': fatal('PostgreSQL rejected the user in DATABASE_URL'),
  '3D000': fatal('the database named in DATABASE_URL does not exist'),
  '42501': fatal('the PostgreSQL user in DATABASE_URL lacks a permission it needs'),
  ...Object.fromEntries([...TLS_VERIFICATION_CODES].map((code) => [code, UNTRUSTED])),
  ERR_TLS_CERT_ALTNAME_INVALID: fatal(
    "PostgreSQL's TLS certificate does not name the host in DATABASE_URL",
    FATAL_CODES.misconfigured,
  ),
  CERT_HAS_EXPIRED: fatal("PostgreSQL's TLS certificate has expired", FATAL_CODES.misconfigured),
  '53100': transient("PostgreSQL's disk is full"),
  '53200': transient('PostgreSQL is out of memory'),
  '53300': transient('PostgreSQL has no connection slot free'),
  // Our statement_timeout (a lock wait behind someone's long transaction, say), or an operator's
  // pg_cancel_backend: tried again.
  '57014': transient('a statement ran past its statement timeout (a lock held by another session?)'),
  '57P01': UNAVAILABLE,
  '57P02': UNAVAILABLE,
  '57P03': transient('PostgreSQL is starting up or shutting down'),
  '40001': UNAVAILABLE,
  '40P01': UNAVAILABLE,
  // A write on a read-only session, as on a primary that came back as a standby: the next connection
  // looks for the writable host (database-hosts.ts).
  '25006': transient('PostgreSQL is read-only (a standby?)'),
  // Partition maintenance sets a lock_timeout: tried again later.
  [SQLSTATE.lockNotAvailable]: UNAVAILABLE,
  ...Object.fromEntries(
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].map((code) => [
      code,
      UNAVAILABLE,
    ]),
  ),
};

// Data exceptions (22: a timestamp out of range, say), integrity violations (23) and program limits
// (54: a value too large): the row is at fault, not the server (isRowDataError).
const ROW_REFUSED = fatal('PostgreSQL refused a value in the batch');

/** By SQLSTATE class, for a SQLSTATE not above. */
const BY_CLASS: Record<string, Verdict> = {
  '08': UNAVAILABLE,
  '53': UNAVAILABLE,
  '22': ROW_REFUSED,
  '23': ROW_REFUSED,
  '54': ROW_REFUSED,
};

// node-postgres reports a dropped socket or a slow connect with a message and no code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client was closed and is not queryable|Client has encountered a connection error and is not queryable/i;

const isSqlstate = (code: string) => /^[0-9A-Z]{5}$/.test(code);
// A socket's or TLS' failure not named above (EPROTO, ERR_SSL_WRONG_VERSION_NUMBER...): a refusal.
const isConnectionCode = (code: string) => /^E[A-Z0-9]+$|^ERR_(TLS|SSL)_/.test(code);

/**
 * PostgreSQL's table (`VerdictOf`): a failure of node-postgres or of its socket, or undefined for one
 * that is not PostgreSQL's. Any other SQLSTATE, or socket code, is a refusal. Of a failed connect to several
 * addresses (an AggregateError), a retryable one wins.
 */
export function postgresVerdict(error: Error): Verdict | undefined {
  const code = codeOf(error);
  if (code !== undefined) {
    const verdict =
      BY_CODE[code] ??
      (isSqlstate(code) ? (BY_CLASS[code.slice(0, 2)] ?? REFUSED) : isConnectionCode(code) ? REFUSED : undefined);
    if (verdict) return verdict;
  }
  if (error instanceof AggregateError) {
    const inner = error.errors.flatMap((nested) => (nested instanceof Error ? [postgresVerdict(nested)] : []));
    return inner.find((verdict) => verdict?.retryable) ?? inner.find((verdict) => verdict !== undefined);
  }
  return UNAVAILABLE_MESSAGES.test(error.message) ? UNAVAILABLE : undefined;
}

/** The statement failed because of a value in it: retrying the same rows will fail again. */
export function isRowDataError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && isSqlstate(code) && BY_CLASS[code.slice(0, 2)] === ROW_REFUSED;
}
