#!/usr/bin/env node
// `npm run test:faults [-- --full] [-- vitest options]`: the fault-injection suite. CI runs the small
// version; --full runs the numbers (200,000 events per scenario).
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const full = args.includes('--full');
const rest = args.filter((arg) => arg !== '--full');
const result = spawnSync('npx', ['vitest', 'run', '--project', 'faults', ...rest], {
  stdio: 'inherit',
  env: { ...process.env, FAULTS_FULL: full ? '1' : '0' },
});
process.exit(result.status ?? 1);
