import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inRange, NODE_RANGE } from '../src/node-version.js';

describe('the supported Node.js versions', () => {
  it("are package.json's engines", () => {
    const engines = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines;
    expect(engines.node).toBe(NODE_RANGE);
  });

  it('read ^ as the same major from the version given, and >= as any version from it', () => {
    const range = '^22.22.0 || >=24.6.0';
    for (const version of ['22.22.0', '22.22.1', '22.23.0', '24.6.0', '24.11.2', '25.0.0', '30.1.0']) {
      expect(inRange(version, range), version).toBe(true);
    }
    for (const version of ['20.20.2', '22.21.9', '23.0.0', '23.11.0', '24.5.9', '18.0.0']) {
      expect(inRange(version, range), version).toBe(false);
    }
  });
});
