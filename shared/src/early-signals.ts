/**
 * Holds a SIGTERM or SIGINT that arrives while a daemon is still loading its modules (a second or two
 * on a slow machine): without a listener Node.js would end the process at once, with no graceful stop
 * and no exit code of ours. Each daemon's main.ts imports this module first, so that it runs before the
 * heavy ones; runDaemon then takes the held signals and treats them as a request to stop.
 */
const held: NodeJS.Signals[] = [];
const hold = (signal: NodeJS.Signals) => {
  held.push(signal);
};
process.on('SIGTERM', hold);
process.on('SIGINT', hold);

/** The signals received so far; from now on the caller's own listeners handle them. */
export function takeEarlySignals(): NodeJS.Signals[] {
  process.off('SIGTERM', hold);
  process.off('SIGINT', hold);
  return held.splice(0);
}
