/**
 * The process edge of a daemon: signals, exit codes and the shutdown watchdog live here and nowhere
 * else. The first SIGTERM/SIGINT asks for a graceful stop; a second one, or the watchdog, forces it.
 */
import { ConfigError, type Env } from './config.js';
import { takeEarlySignals } from './early-signals.js';
import { FATAL_CODES, FatalError, isAbortError, toError } from './errors.js';
import { EXIT_CODES } from './exit-codes.js';
import { LOG_EVENT } from './log-events.js';
import type { Logger } from './logger.js';
import { logProcessWarnings } from './process-warnings.js';

export { EXIT_CODES };

/** Prints the help and exits 0 when the command line asks for it (`--help` or `-h`). */
export function exitWithHelpIfAsked(help: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  process.stdout.write(help);
  process.exit(EXIT_CODES.ok);
}

/** Loads the configuration or exits with one message naming every bad variable (no stack trace). */
export function loadConfigOrExit<Config>(name: string, load: (env: Env) => Config): Config {
  try {
    return load(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(EXIT_CODES.config);
  }
}

/**
 * How long a graceful stop may take before the process is ended anyway: inside the 10 s that
 * `docker stop` waits by default (compose's file gives 15 s), with a second to spare.
 */
export const SHUTDOWN_GRACE_MS = 9_000;

export interface DaemonOptions {
  logger: Logger;
}

/**
 * Runs `run` until it returns or fails. `run` receives a signal that aborts on SIGTERM/SIGINT and must
 * then stop its parts in order and return.
 */
export function runDaemon(run: (signal: AbortSignal) => Promise<void>, { logger }: DaemonOptions): void {
  const controller = new AbortController();
  logProcessWarnings(logger);
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(EXIT_CODES.interrupted);
    }
    logger.info({ signal }, 'shutting down');
    controller.abort();
    setTimeout(() => {
      logger.error({ shutdownGraceMs: SHUTDOWN_GRACE_MS }, 'graceful shutdown took too long; exiting');
      process.exit(EXIT_CODES.failed);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  for (const signal of takeEarlySignals()) onSignal(signal);

  run(controller.signal).then(
    () => {
      logger.info({ event: LOG_EVENT.stopped }, 'stopped');
      process.exit(EXIT_CODES.ok);
    },
    (caught: unknown) => {
      const error = toError(caught);
      if (controller.signal.aborted && isAbortError(error)) {
        logger.info({ event: LOG_EVENT.stopped }, 'stopped');
        process.exit(EXIT_CODES.ok);
      }
      if (error instanceof FatalError)
        logger.fatal(
          { event: LOG_EVENT.fatal, code: error.code, reason: error.cause ? toError(error.cause).message : undefined },
          error.message,
        );
      else logger.fatal({ event: LOG_EVENT.fatal, code: FATAL_CODES.unexpected, err: error }, 'stopped by an unexpected error');
      process.exit(EXIT_CODES.failed);
    },
  );
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
