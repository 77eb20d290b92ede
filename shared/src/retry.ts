/**
 * Capped, jittered exponential backoff for transient failures. Every wait takes an AbortSignal, so a
 * shutdown never sits out a retry delay.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ClassifiedError, classify, FATAL_CODES, FatalError, type VerdictOf } from './errors.js';
import type { Logger } from './logger.js';

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 250, maxDelayMs: 10_000 };

/**
 * The wait before retry number `attempt` (0-based): half of the capped exponential step plus a random
 * half, so that replicas that failed together do not retry in lockstep.
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : undefined);
}

export interface RetryOptions extends Partial<BackoffOptions> {
  /**
   * The edge's table: each failure is classified by it (`classify`), retried when its verdict is
   * retryable, and thrown classified at once when not.
   */
  verdictOf: VerdictOf;
  /** Every wait ends when the daemon stops. */
  signal: AbortSignal;
  /** Called before each wait: the place to log, and to send a Kafka heartbeat during long outages. */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void | Promise<void>;
  /**
   * Give up once this much time has passed since the first failure: with `outage`, by throwing an
   * OutageError that names it; otherwise by throwing a FatalError that says how long the last failure lasted.
   */
  maxElapsedMs?: number;
  /** What stayed unreachable and the setting that bounds the wait, for the OutageError's message. */
  outage?: { what: string; setting: string };
}

/** A service stayed unreachable for longer than the operator allows: the daemon stops. */
export class OutageError extends FatalError {
  override readonly name = 'OutageError';
}

/** An `onRetry` that logs one line (a warning unless told) per failed attempt: what failed, which attempt, and the wait. */
export function logRetries(
  logger: Logger,
  message: string,
  fields: Record<string, unknown> = {},
  level: 'warn' | 'debug' = 'warn',
): NonNullable<RetryOptions['onRetry']> {
  return (error, attempt, delayMs) =>
    logger[level]({ ...fields, attempt: attempt + 1, retryInMs: delayMs, reason: error.message }, message);
}

function givingUp(error: ClassifiedError, elapsedMs: number, outage: RetryOptions['outage']): FatalError {
  if (outage === undefined) {
    return new FatalError(`still failing after ${elapsedMs / 1000} s: ${error.message}`, { code: error.code, cause: error });
  }
  return new OutageError(`${outage.what} stayed unreachable for longer than ${outage.setting} (${elapsedMs} ms)`, {
    code: FATAL_CODES.outage,
    cause: error,
  });
}

export async function withRetry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const backoff = { ...DEFAULT_BACKOFF, ...options };
  let firstFailureAt: number | undefined;
  for (let attempt = 0; ; attempt++) {
    options.signal.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (caught) {
      const error = classify(caught, options.verdictOf);
      if (!(error instanceof ClassifiedError) || !error.retryable) throw error;
      firstFailureAt ??= Date.now();
      if (options.maxElapsedMs !== undefined && Date.now() - firstFailureAt >= options.maxElapsedMs) {
        throw givingUp(error, options.maxElapsedMs, options.outage);
      }
      const delayMs = backoffDelayMs(attempt, backoff);
      await options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}
