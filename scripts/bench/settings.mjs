// The benchmark's sizes, ports and places, from its command line and environment.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const quick = process.argv.includes('--quick');
export const save = process.argv.includes('--save');
export const SIZES = quick
  ? { backlog: 200_000, random: 100_000, sustained: 200_000, latencySeconds: 10, idleSeconds: 10, baselineSeconds: 5 }
  : { backlog: 1_000_000, random: 500_000, sustained: 1_000_000, latencySeconds: 30, idleSeconds: 20, baselineSeconds: 15 };
export const KAFKA_PORT = Number(process.env.BENCH_KAFKA_PORT ?? 26092);
export const PORTS = { consumer: 26464, producer: 26465, api: 26505 };
export const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const benchDatabase = 'user_actions_bench';
export const databaseUrl = withDatabase(adminUrl, benchDatabase);
export const outDir = join(repo, 'bench-results');
export const SAMPLE_MS = 250;
export const WARM_UP_SECONDS = 5;

/** @param {string} url @param {string} database */
function withDatabase(url, database) {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
