/**
 * Stops a daemon at once, with one line, on a Node.js version outside the range it is built for (as
 * package.json's `engines` says, which a test holds equal to NODE_RANGE): on an older one it would
 * otherwise create the table and then die of a missing function. Each entry point imports this module
 * before anything else of the daemon's.
 */
import { EXIT_CODES } from './exit-codes.js';

/** The supported versions, in the form of package.json's `engines.node`: `^X.Y.Z` or `>=X.Y.Z`, joined by `||`. */
export const NODE_RANGE = '^22.22.0 || >=24.6.0';

type Version = [number, number, number];

const parse = (text: string): Version => text.split('.').map(Number) as Version;

const atLeast = (version: Version, minimum: Version): boolean => {
  for (let index = 0; index < 3; index++) {
    if (version[index] !== minimum[index]) return (version[index] as number) > (minimum[index] as number);
  }
  return true;
};

/** Whether `version` (`22.22.1`, no `v`) is in `range`. */
export function inRange(version: string, range: string = NODE_RANGE): boolean {
  const found = parse(version);
  return range.split('||').some((part) => {
    const condition = part.trim();
    if (condition.startsWith('>=')) return atLeast(found, parse(condition.slice(2)));
    if (condition.startsWith('^')) {
      const minimum = parse(condition.slice(1));
      return found[0] === minimum[0] && atLeast(found, minimum);
    }
    throw new Error(`not a range this check reads: ${condition}`);
  });
}

if (!inRange(process.versions.node)) {
  process.stderr.write(`Node.js ${process.versions.node} is not supported: this needs Node.js ${NODE_RANGE}\n`);
  process.exit(EXIT_CODES.config);
}
