#!/usr/bin/env node
// `npm start`: the whole pipeline on this machine without Docker — the local Kafka broker
// (scripts/kafka.sh), PostgreSQL from DATABASE_URL, one producer, one consumer and the API — until Ctrl-C.
// The broker is stopped on exit only if this script started it.
// First: a Node.js outside the supported range stops here with one line, before a broker is started.
import '../shared/dist/node-version.js';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from './daemon-flags.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const kafkaScript = `${repo}scripts/kafka.sh`;
const port = process.env.KAFKA_PORT ?? '9092';

/** @param {'start' | 'stop' | 'status'} command */
function kafka(command) {
  try {
    execFileSync('bash', [kafkaScript, command], { stdio: command === 'status' ? 'ignore' : 'inherit' });
    return true;
  } catch {
    return false;
  }
}

const brokerWasRunning = kafka('status');
if (!brokerWasRunning && !kafka('start')) process.exit(1);

const env = { ...process.env, KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? `127.0.0.1:${port}` };
// The API reads with a bearer token: the one set, or one made for this run.
const token = process.env.API_TOKENS?.split(',')[0] ?? randomBytes(18).toString('base64url');
const apiPort = Number(process.env.API_PORT ?? 5005);
// Each daemon its own metrics port: the consumer on METRICS_PORT (9464), the producer on the next one.
const metricsPort = Number(process.env.METRICS_PORT ?? 9464);
/** @type {['consumer' | 'producer' | 'api', Record<string, string>][]} */
const daemonEnv = [
  ['consumer', { METRICS_PORT: String(metricsPort) }],
  ['producer', { METRICS_PORT: String(metricsPort + 1) }],
  ['api', { API_PORT: String(apiPort), API_TOKENS: process.env.API_TOKENS ?? token }],
];
const daemons = daemonEnv.map(([name, own]) =>
  spawn(process.execPath, [...DAEMON_NODE_FLAGS[name], `${repo}${name}/dist/main.js`], {
    env: { ...env, ...own },
    stdio: 'inherit',
  }),
);
process.stdout.write(
  `\nlive page: http://localhost:${apiPort}/   API: curl -H 'Authorization: Bearer ${token}' 'http://localhost:${apiPort}/api/user/actions?limit=10'\n\n`,
);
const exits = daemons.map((child) => new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1))));

let stopping = false;
function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const child of daemons) if (child.exitCode === null) child.kill('SIGTERM');
}
// Ctrl-C reaches the daemons directly (same process group); SIGTERM is passed on.
process.on('SIGINT', () => {
  stopping = true;
});
process.on('SIGTERM', stopAll);
// One daemon failing (a wrong DATABASE_URL, say) stops the other.
for (const exit of exits) exit.then((code) => code !== 0 && stopAll());

const codes = await Promise.all(exits);
if (!brokerWasRunning) kafka('stop');
process.exit(codes.find((code) => code !== 0) ?? 0);
