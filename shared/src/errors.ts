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
 * A failure that retrying will not fix (bad credentials, a missing database, no permission): the daemon
 * stops with this message, its code, and a non-zero exit code instead of retrying forever. Transient
 * failures are not errors of their own: each edge's predicates tell them apart (kafka/errors.ts,
 * postgres/errors.ts), and `withRetry` waits them out.
 */
export class FatalError extends Error {
  override readonly name: string = 'FatalError';
  readonly code: FatalCode;
  constructor(message: string, { code, cause }: { code: FatalCode; cause?: unknown }) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}
