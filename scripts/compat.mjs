#!/usr/bin/env node
// `KAFKA_VERSION=3.9.2 npm run test:compat`: the compatibility set against another Kafka line (3.9.2
// when KAFKA_VERSION is unset) — the pipeline, three consumers sharing partitions, dead letters, SASL,
// and the kill -9 fault scenario — each on a broker of that version that the tests start themselves.
import { spawnSync } from 'node:child_process';

const INTEGRATION = ['pipeline', 'scaling', 'dead-letters', 'kafka-sasl'].map((name) => `test/integration/${name}.test.ts`);
const FAULT_SCENARIO = 'kill -9 a consumer';

/** @type {NodeJS.ProcessEnv} */
const env = { ...process.env, KAFKA_VERSION: process.env.KAFKA_VERSION || '3.9.2' };
// The tests must start their own broker of that version, not use one already running.
delete env.KAFKA_BROKERS;
process.stdout.write(`Kafka ${env.KAFKA_VERSION} compatibility set\n`);

/** @param {string[]} args */
const vitest = (args) => spawnSync('npx', ['vitest', 'run', ...args], { stdio: 'inherit', env }).status ?? 1;
const failed = vitest(['--project', 'integration', ...INTEGRATION]) || vitest(['--project', 'faults', '-t', FAULT_SCENARIO]);
process.exit(failed);
