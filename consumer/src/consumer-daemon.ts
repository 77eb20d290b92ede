/** The consumer daemon: wires configuration, logging, PostgreSQL and the Kafka loader together. */
import { once } from 'node:events';
import {
  createMetricsRegistry,
  Readiness,
  runDaemon,
  runShutdownSteps,
  startDaemonProcess,
  startOpsServer,
} from '@user-actions/shared';
import { consumerSettings, loadConsumerConfig } from './config.js';
import { type Loader, startLoader } from './loading/loader.js';
import { createLoaderMetrics } from './metrics.js';
import { CONDITIONS } from './readiness-conditions.js';
import { createPool } from './storing/db.js';
import { prepareDatabase } from './storing/migration.js';
import { reportMaintenance, startPartitionMaintenance } from './storing/partition-maintenance.js';
import { sqlFor } from './storing/sql.js';

const { config, logger } = startDaemonProcess(
  {
    name: 'consumer',
    summary: "Stores every user-action event from Kafka in PostgreSQL's useractions table, exactly once.",
    settings: consumerSettings,
  },
  loadConsumerConfig,
);

runDaemon(
  async (signal) => {
    const readiness = new Readiness(
      { [CONDITIONS.postgres]: 'table not created yet', [CONDITIONS.kafka]: 'not in the consumer group yet' },
      logger,
    );
    const pool = createPool(
      config.databaseUrl,
      logger,
      { statementMs: config.statementTimeoutMs, connectMs: config.connectTimeoutMs },
      (waiting) =>
        waiting === undefined
          ? readiness.met(CONDITIONS.postgresAnswers)
          : readiness.unmetBecause(CONDITIONS.postgresAnswers, waiting),
    );
    const sql = sqlFor(config.table);
    const registry = createMetricsRegistry('consumer');
    const ops = await startOpsServer({ port: config.metricsPort, registry, readiness: readiness.check, logger });
    let loader: Loader | undefined;
    const metrics = createLoaderMetrics(registry, pool);
    const partitionCounters = {
      created: (count: number) => metrics.partitionsCreated.inc(count),
      dropped: (count: number) => metrics.partitionsDropped.inc(count),
    };
    let maintenance: { stop(): Promise<void> } | undefined;
    try {
      const migration = await prepareDatabase(pool, { ...config, sql, policy: config.partitions }, logger, signal);
      reportMaintenance(migration.partitions, logger, partitionCounters);
      readiness.met(CONDITIONS.postgres);
      // Partitions are made and dropped by the table's owner: a consumer without DDL rights leaves them to it.
      if (config.partitions && config.autoMigrate) {
        maintenance = startPartitionMaintenance({ pool, sql, policy: config.partitions, logger, counters: partitionCounters });
      }
      loader = await startLoader(config, { pool, sql }, logger, signal, { metrics, readiness });
      await Promise.race([signal.aborted || once(signal, 'abort'), loader.failed]);
    } finally {
      await runShutdownSteps(logger, [
        ['leave the consumer group', async () => loader?.stop()],
        ['stop maintaining partitions', async () => maintenance?.stop()],
        ['close the PostgreSQL pool', () => pool.end()],
        ['stop serving metrics', () => ops.stop()],
      ]);
    }
  },
  { logger },
);
