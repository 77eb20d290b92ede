/**
 * A service's one way to start and stop (graphile-worker's releasers, pg-boss' start/stop): each part
 * registers its release as it starts; on `stop()`, on a failed start and when the service fails, the
 * releases run in reverse order of the starts, every one of them even when one before it failed, and
 * the first error is the one reported.
 */
import { isAbortError, toError } from './errors.js';
import type { Logger } from './logger.js';

export interface Service {
  /** Settles once every part is released: resolves after `stop()` or a finished run, rejects with the failure. */
  readonly stopped: Promise<void>;
  /** Aborts whatever the service is doing or waiting for, then releases its parts; safe to call again. */
  stop(): Promise<void>;
}

export interface ServiceContext {
  /** Aborts on `stop()`, and once the run has ended however it ended: every wait of the start and of the run takes it. */
  signal: AbortSignal;
  /** Registers a started part's release, run on the way out in reverse order of registration. */
  onStop(what: string, release: () => unknown): void;
}

/**
 * Runs `run` (start the parts, then do the work: until `signal` aborts, or until the work is done)
 * and releases the parts afterwards, however it ended.
 */
export function startService(logger: Logger, run: (context: ServiceContext) => Promise<void>): Service {
  const controller = new AbortController();
  const releases: Array<readonly [string, () => Promise<unknown>]> = [];
  const onStop = (what: string, release: () => unknown) => {
    releases.push([what, async () => release()]);
  };
  const stopped = (async () => {
    let failure: Error | undefined;
    try {
      await run({ signal: controller.signal, onStop });
    } catch (caught) {
      const error = toError(caught);
      // A wait abandoned because stop() was asked for is how a stop looks from inside, not a failure.
      if (!(controller.signal.aborted && isAbortError(error))) failure = error;
    }
    // However the run ended, whatever still waits on the signal (a retry, a batch) lets go before its part is released.
    controller.abort();
    try {
      await runShutdownSteps(logger, releases.reverse());
    } catch (error) {
      failure ??= toError(error);
    }
    if (failure) throw failure;
  })();
  // Observed by whoever awaits `stopped` or `stop()`; never an unhandled rejection meanwhile.
  stopped.catch(() => undefined);
  return {
    stopped,
    stop() {
      controller.abort();
      return stopped;
    },
  };
}

/** Runs every step of a shutdown in order, even when one fails, then reports the first failure. */
export async function runShutdownSteps(
  logger: Logger,
  steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>,
): Promise<void> {
  let firstError: Error | undefined;
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (caught) {
      const error = toError(caught);
      logger.error({ err: error, step: name }, 'shutdown step failed');
      firstError ??= error;
    }
  }
  if (firstError) throw firstError;
}

/** Resolves once `signal` aborts (at once if it has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * A signal that aborts `ms` after `signal` does: for work that should finish at a stop if it can (a
 * send in flight), but not outlast the grace when it cannot.
 */
export function abortedAfter(signal: AbortSignal, ms: number): AbortSignal {
  const later = new AbortController();
  const abortLater = () => setTimeout(() => later.abort(), ms).unref();
  if (signal.aborted) abortLater();
  else signal.addEventListener('abort', abortLater, { once: true });
  return later.signal;
}

/**
 * `work`, or the signal's reason as soon as it aborts: for a step a client runs to its own end however
 * long (a connection attempt with the client's own retries), which a stop must not wait for. The work
 * is abandoned, not undone.
 */
export function abandonedOnAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined); // its failure after the abort is of no interest
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
