/**
 * A daemon, or `npm start`, on a Node.js outside package.json's engines stops before it does anything
 * (no table made, no broker started), with one line naming both versions, and exit 78.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE_RANGE } from '../../shared/src/node-version.js';

const repo = new URL('../../', import.meta.url);
/** Node.js 20 as the daemon sees it, on the Node.js that runs the tests. */
const AS_NODE_20 = "data:text/javascript,Object.defineProperty(process.versions,'node',{value:'20.20.2'})";

describe('on Node.js 20', () => {
  it.each([
    'consumer/dist/main.js',
    'consumer/dist/replay-main.js',
    'producer/dist/main.js',
    'api/dist/main.js',
    'scripts/run-local.mjs',
  ])('%s stops at once with one line and exit 78', (entry) => {
    const run = spawnSync(process.execPath, ['--import', AS_NODE_20, fileURLToPath(new URL(entry, repo))], {
      encoding: 'utf8',
      timeout: 30_000,
      // Anything it reached would fail here, and differently.
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', KAFKA_BROKERS: '127.0.0.1:1', KAFKA_PORT: '1' },
    });
    expect(run.stderr).toBe(`Node.js 20.20.2 is not supported: this needs Node.js ${NODE_RANGE}\n`);
    expect(run.stdout).toBe('');
    expect(run.status).toBe(78);
  });
});
