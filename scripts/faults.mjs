#!/usr/bin/env node
// `npm run test:faults [-- --full] [-- vitest options]`: the fault-injection suite. CI runs the small
// version; --full runs the numbers (200,000 events per scenario).
// `npm run test:faults -- --random [--minutes N] [--seed N] [--kinds a,b] [--rate N]`: faults drawn at
// random under a steady load (test/faults/random/); the kinds are listed in its fault-kinds.ts.
import { spawnSync } from 'node:child_process';

const RANDOM_OPTIONS = new Map([
  ['--minutes', 'FAULTS_RANDOM_MINUTES'],
  ['--seed', 'FAULTS_RANDOM_SEED'],
  ['--kinds', 'FAULTS_RANDOM_KINDS'],
  ['--rate', 'FAULTS_RANDOM_RATE'],
]);
const env = new Map(Object.entries({ ...process.env, FAULTS_FULL: '0' }));
let random = false;
const randomOptions = [];
// Options of vitest's own pass through.
const passed = [];
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index++) {
  const arg = args[index] ?? '';
  const [name = '', inline] = arg.split(/=(.*)/s);
  if (name === '--full') env.set('FAULTS_FULL', '1');
  else if (name === '--random') random = true;
  else if (RANDOM_OPTIONS.has(name)) {
    const value = inline ?? args[++index];
    if (value === undefined) {
      console.error(`${name} needs a value`);
      process.exit(2);
    }
    env.set(RANDOM_OPTIONS.get(name) ?? '', value);
    randomOptions.push(name);
  } else passed.push(arg);
}
if (!random && randomOptions.length > 0) {
  console.error(`${randomOptions.join(', ')}: only with --random`);
  process.exit(2);
}
const project = random ? 'faults-random' : 'faults';
const result = spawnSync('npx', ['vitest', 'run', '--project', project, ...passed], {
  stdio: 'inherit',
  env: Object.fromEntries(env),
});
process.exit(result.status ?? 1);
