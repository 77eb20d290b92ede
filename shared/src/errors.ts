/** Turns whatever a `catch` received into an Error, keeping the original as `cause` when it was not one. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value), { cause: value });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Why a daemon stopped, as a stable code on its last log line (`code`), for alerts and scripts; the
 * message beside it says the same for people, with what to fix.
 */
export const FATAL_CODES = {
  /** A setting that can never work: the address speaks another protocol, TLS or SASL do not match. */
  misconfigured: 'misconfigured',
  /** Kafka refused the credentials, a permission or a request. */
  kafkaRefused: 'kafka-refused',
  /** The topic cannot be created as asked. */
  kafkaTopic: 'kafka-topic',
  /** PostgreSQL refused the credentials, the database, a permission or a statement. */
  postgresRefused: 'postgres-refused',
  /** The table is missing or lacks a column, and the consumer may not create it. */
  postgresTable: 'postgres-table',
  /** A service stayed unreachable for longer than its setting allows. */
  outage: 'outage',
  /** Too many recent messages were dead letters (DLQ_MAX_RATIO). */
  deadLetterGuard: 'dead-letter-guard',
  /** The dead-letter topic refused a message. */
  deadLetterRefused: 'dead-letter-refused',
  /** Events PostgreSQL lost are gone from Kafka too, and ON_LOST_EVENTS says stop. */
  eventsLost: 'events-lost',
  /** METRICS_PORT is taken. */
  portInUse: 'port-in-use',
  /** A failure nobody foresaw: a defect, to be reported. */
  unexpected: 'unexpected',
} as const;

export type FatalCode = (typeof FATAL_CODES)[keyof typeof FATAL_CODES];

/**
 * What an edge's table says about one of its failures: whether waiting may fix it, what an operator
 * reads (the kind of fault, and for a fatal one what to fix), and the code the daemon stops with when
 * it ends the daemon (after MAX_OUTAGE_MS, say, for a retryable one).
 */
export interface Verdict {
  retryable: boolean;
  explanation: string;
  code: FatalCode;
}

/** The verdict on a failure waiting may fix; `code` if it ends the daemon all the same (past MAX_OUTAGE_MS, say). */
export function transientVerdict(explanation: string, code: FatalCode = FATAL_CODES.outage): Verdict {
  return { retryable: true, explanation, code };
}

/** The verdict on a failure that needs a person: `explanation` says what to fix. */
export function fatalVerdict(explanation: string, code: FatalCode): Verdict {
  return { retryable: false, explanation, code };
}

/** An edge's table: the verdict on one of its failures, or undefined for a failure that is not its own. */
export type VerdictOf = (error: Error) => Verdict | undefined;

/**
 * A failure whose verdict is known. Every error the daemons act on is one of these: the edges' errors
 * once `classify` has read them against their table, and the daemons' own (a bad setting, a silent
 * connection, a wrong session) as they are made. `code` is why the daemon stops if this ends it.
 */
export class ClassifiedError extends Error {
  override readonly name: string = 'ClassifiedError';
  readonly retryable: boolean;
  readonly code: FatalCode;
  constructor(message: string, { retryable, code, cause }: { retryable: boolean; code: FatalCode; cause?: unknown }) {
    super(message, cause === undefined ? undefined : { cause });
    this.retryable = retryable;
    this.code = code;
  }
}

/** A failure that waiting may fix: a server away, restarting, overloaded, or a connection gone silent. */
export class TransientError extends ClassifiedError {
  override readonly name: string = 'TransientError';
  constructor(message: string, { code = FATAL_CODES.outage, cause }: { code?: FatalCode; cause?: unknown } = {}) {
    super(message, { retryable: true, code, cause });
  }
}

/**
 * A failure that retrying will not fix (bad credentials, a missing database, no permission): the daemon
 * stops with this message, its code, and a non-zero exit code instead of retrying forever.
 */
export class FatalError extends ClassifiedError {
  override readonly name: string = 'FatalError';
  constructor(message: string, { code, cause }: { code: FatalCode; cause?: unknown }) {
    super(message, { retryable: false, code, cause });
  }
}

/**
 * The one wrapper: a caught value as a ClassifiedError by its edge's table. A stop (AbortError) and an
 * error already classified pass unchanged, and so does one the table does not know (a defect, reported
 * whole). A retryable failure reads as a state (`kind: detail`), a fatal one as what to fix with the
 * code that caused it (`what to fix (code: detail)`).
 */
export function classify(caught: unknown, verdictOf: VerdictOf): Error {
  const error = toError(caught);
  if (error instanceof ClassifiedError || isAbortError(error)) return error;
  const verdict = verdictOf(error);
  if (verdict === undefined) return error;
  const { retryable, explanation, code } = verdict;
  if (retryable) return new TransientError(`${explanation}: ${error.message}`, { code, cause: error });
  const source = codeOf(error);
  return new FatalError(`${explanation} (${source === undefined ? '' : `${source}: `}${error.message})`, { code, cause: error });
}

/** Whether waiting may fix this failure, by its own verdict or its edge's table. */
export function isRetryable(caught: unknown, verdictOf: VerdictOf): boolean {
  const error = classify(caught, verdictOf);
  return error instanceof ClassifiedError && error.retryable;
}

/** The failure as its edge reported it: a classified error's cause, or the error itself. */
export function sourceOf(error: unknown): unknown {
  return error instanceof ClassifiedError && error.cause !== undefined ? sourceOf(error.cause) : error;
}

/** The code a failure had where it arose: a SQLSTATE, a Node.js network code, a Kafka client's code. */
export function codeOf(error: unknown): string | undefined {
  const source = sourceOf(error);
  if (source instanceof ClassifiedError) return undefined;
  const code = (source as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
