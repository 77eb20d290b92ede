/**
 * The process edge of a daemon: signals, exit codes and the shutdown watchdog live here and nowhere
 * else. The first SIGTERM/SIGINT asks for a graceful stop; a second one, or the watchdog, forces it.
 */
import { ConfigError, type Env } from './config.js';
import { takeEarlySignals } from './early-signals.js';
import { FATAL_CODES, FatalError, toError } from './errors.js';
import { EXIT_CODES } from './exit-codes.js';
import { LOG_EVENT } from './log-events.js';
import type { Logger } from './logger.js';
import { logProcessWarnings } from './process-warnings.js';
import type { Service } from './service.js';

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
 * Runs the service `start` returns until it stops or fails: the first SIGTERM/SIGINT stops it, a
 * second exits at once, and a stop that outlasts the grace exits 1. Exit 0 once it has stopped.
 */
export function runDaemon(start: () => Service, { logger }: DaemonOptions): void {
  logProcessWarnings(logger);
  const service = start();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(EXIT_CODES.interrupted);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Its outcome is `stopped`'s, reported below.
    service.stop().catch(() => undefined);
    setTimeout(() => {
      logger.error({ shutdownGraceMs: SHUTDOWN_GRACE_MS }, 'graceful shutdown took too long; exiting');
      process.exit(EXIT_CODES.failed);
    }, SHUTDOWN_GRACE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  for (const signal of takeEarlySignals()) onSignal(signal);

  service.stopped.then(
    () => {
      logger.info({ event: LOG_EVENT.stopped }, 'stopped');
      process.exit(EXIT_CODES.ok);
    },
    (caught: unknown) => {
      const error = toError(caught);
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
