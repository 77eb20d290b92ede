/**
 * One pino root logger per daemon: JSON lines (for containers and log shippers), or human-readable
 * colours when standard output is a terminal. `LOG_FORMAT=json|pretty` overrides the choice.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

// Anything that could carry a credential, wherever it appears in a log object.
const REDACTED_PATHS = [
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  'databaseUrl',
  '*.databaseUrl',
  'sasl',
  '*.sasl',
];

export function createLogger(options: { name: string; level: LogLevel }): Logger {
  const base = {
    name: options.name,
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (!wantsPrettyOutput()) return pino(base);
  // One line per entry, its fields after the message, as a terminal reader scans them.
  return pino(
    base,
    pretty({ colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }),
  );
}

function wantsPrettyOutput(): boolean {
  const format = process.env.LOG_FORMAT;
  if (format === 'json') return false;
  if (format === 'pretty') return true;
  return process.stdout.isTTY === true;
}
