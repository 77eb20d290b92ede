/**
 * What every fault scenario file shares: the size (CI or `--full`), and a scenario runner that checks the
 * suite's promise (nothing lost, nothing stored twice, every poison message dead-lettered, consumers
 * exiting cleanly) and collects each result for the file's table.
 */
import { expect } from 'vitest';
import { CHECK_EVERY_MS } from '../../consumer/src/loading/stored-offset-watch.js';
import type { PostgresServer } from '../support/postgres-server.js';
import type { World } from '../support/world.js';
import type { KafkaBrokers } from './kafka-brokers.js';
import { runScenario, type ScenarioResult } from './scenario.js';
import { printTable } from './table.js';

export const FULL = process.env.FAULTS_FULL === '1';
export const SIZE = FULL
  ? { events: 200_000, intervalMs: 0.2, outageMs: 60_000 } // 5,000 events/s for 40 s
  : { events: 20_000, intervalMs: 1, outageMs: 60_000 }; // 1,000 events/s for 20 s
export const runSeconds = (SIZE.events * SIZE.intervalMs) / 1000;
/** Spreads `times` faults over the producing part of the run. */
export const spacing = (times: number) => Math.floor((runSeconds * 1000 * 0.8) / times);

/**
 * From the failover to every event stored again: the consumers' idle connections break at the kill, the
 * watch reads the stored offsets at its next tick once the replica is promoted, and the partitions are
 * fetched again from there. A few ticks, and the connections' own retries, with room for a slow host.
 */
export const REFILL_BOUND_MS = 5 * CHECK_EVERY_MS + 5_000;

export interface ScenarioServers {
  postgres: PostgresServer;
  kafka: KafkaBrokers;
}

export interface ScenarioSettings {
  consumers?: number;
  events?: number;
  brokers?: KafkaBrokers;
  postgres?: PostgresServer;
  databaseUrl?: string;
  /** More environment for the consumers, or settings of the world's own changed. */
  consumerEnv?: (world: World) => Record<string, string>;
}

export function createSuite(servers: () => ScenarioServers) {
  const results: ScenarioResult[] = [];
  return {
    printTable: (title: string) => printTable(results, `${title}, ${FULL ? 'full' : 'CI'} size`),
    async scenario(name: string, options: ScenarioSettings, fault: Parameters<typeof runScenario>[0]['fault']) {
      const result = await runScenario({
        name,
        postgres: options.postgres ?? servers().postgres,
        ...(options.databaseUrl !== undefined && { databaseUrl: options.databaseUrl }),
        ...(options.consumerEnv !== undefined && { consumerEnv: options.consumerEnv }),
        kafka: options.brokers ?? servers().kafka,
        events: options.events ?? SIZE.events,
        intervalMs: SIZE.intervalMs,
        consumers: options.consumers ?? 2,
        fault,
      });
      const { poisonSent, exitCodes, ...row } = result;
      results.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
      expect(row.lost, 'events lost').toBe(0);
      expect(row.duplicated, 'events stored twice').toBe(0);
      expect(row.stored).toBe(row.produced);
      expect(row.deadLettered, 'dead letters').toBe(poisonSent);
      expect(
        exitCodes.every((code) => code === 0),
        `consumer exit codes ${exitCodes}`,
      ).toBe(true);
      return result;
    },
  };
}
