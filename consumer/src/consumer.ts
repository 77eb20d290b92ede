/**
 * The consumer as one service: the ops server, the PostgreSQL pool, the table, partition maintenance
 * and the loader, each released in reverse order of its start (`shared/src/service.ts`).
 */
import {
  createMetricsRegistry,
  type Logger,
  Readiness,
  type Service,
  startOpsServer,
  startService,
  untilAborted,
} from '@user-actions/shared';
import type { ConsumerConfig } from './config.js';
import { createPool } from './connecting/pool.js';
import { startLoader } from './loading/loader.js';
import { createLoaderMetrics } from './metrics.js';
import { CONDITIONS } from './readiness-conditions.js';
import { prepareDatabase } from './schema/migration.js';
import { reportMaintenance, startPartitionMaintenance } from './schema/partition-maintenance.js';
import { sqlFor } from './sql/sql.js';
import { loaderPort } from './writing/loader-port.js';

export function startConsumer(config: ConsumerConfig, logger: Logger): Service {
  return startService(logger, async ({ signal, onStop }) => {
    const readiness = new Readiness(
      { [CONDITIONS.postgres]: 'table not created yet', [CONDITIONS.kafka]: 'not in the consumer group yet' },
      logger,
    );
    const registry = createMetricsRegistry('consumer');
    const ops = await startOpsServer({ port: config.metricsPort, registry, readiness: readiness.check, logger });
    onStop('stop serving metrics', () => ops.stop());
    const pool = createPool(
      config.databaseUrl,
      logger,
      { statementMs: config.statementTimeoutMs, connectMs: config.connectTimeoutMs },
      (waiting) =>
        waiting === undefined
          ? readiness.met(CONDITIONS.postgresAnswers)
          : readiness.unmetBecause(CONDITIONS.postgresAnswers, waiting),
    );
    onStop('close the PostgreSQL pool', () => pool.end());
    const sql = sqlFor(config.table);
    const metrics = createLoaderMetrics(registry, pool);
    const partitionCounters = {
      created: (count: number) => metrics.partitionsCreated.inc(count),
      dropped: (count: number) => metrics.partitionsDropped.inc(count),
    };

    const migration = await prepareDatabase(pool, { ...config, sql, policy: config.partitions }, logger, signal);
    reportMaintenance(migration.partitions, logger, partitionCounters);
    readiness.met(CONDITIONS.postgres);
    // Partitions are made and dropped by the table's owner: a consumer without DDL rights leaves them to it.
    if (config.partitions && config.autoMigrate) {
      const maintenance = startPartitionMaintenance({
        pool,
        sql,
        policy: config.partitions,
        logger,
        counters: partitionCounters,
      });
      onStop('stop maintaining partitions', () => maintenance.stop());
    }
    const loader = await startLoader(
      config,
      logger,
      { signal, onStop },
      { metrics, readiness, postgres: loaderPort(pool, sql, config) },
    );
    await Promise.race([untilAborted(signal), loader.failed]);
  });
}
