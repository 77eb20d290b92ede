/**
 * The Node.js flags each daemon runs with are written in scripts/daemon-flags.mjs; the places that start
 * a daemon without Node.js reading that file (npm's scripts, the images, the entry points' shebangs)
 * must say exactly the same.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../scripts/daemon-flags.mjs';

const repo = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, repo), 'utf8');

describe.each(['producer', 'consumer', 'api'] as const)('the %s', (daemon) => {
  const flags = DAEMON_NODE_FLAGS[daemon];
  const entry = `${daemon}/dist/main.js`;

  it('starts with the same Node.js flags through npm, in its image and from its shebang', () => {
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(scripts[daemon]).toBe(`exec node ${flags.join(' ')} ${entry}`);
    const cmd = /^CMD (\[.*\])$/m.exec(read(`Dockerfile.${daemon}`))?.[1] ?? '[]';
    expect(JSON.parse(cmd)).toEqual(['node', ...flags, entry]);
    expect(read(`${daemon}/src/main.ts`).split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags.join(' ')}`);
  });
});
