/**
 * Node.js prints its process warnings to stderr as plain text, outside the daemon's JSON log. They go
 * through pino instead, as warnings, but for one known to be harmless: kafkajs 2.2.4 asks for a timer
 * of minus the current time when it first schedules its request queue (tulios/kafkajs#1751); Node.js
 * 24 warns about it, and runs the timer after 1 ms, as every version did before.
 */
import type { Logger } from './logger.js';

export function isKnownHarmlessWarning(warning: Error): boolean {
  return warning.name === 'TimeoutNegativeWarning' && /^-\d{12,}(\.\d+)? is a negative number/.test(warning.message);
}

export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (isKnownHarmlessWarning(warning)) logger.debug({ warning: warning.name }, warning.message);
    else logger.warn({ warning: warning.name, code: (warning as { code?: unknown }).code }, warning.message);
  });
}
