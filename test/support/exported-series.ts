/** The series names the daemons export, for checking that dashboards and alert rules name only those. */

import type { Pool } from '../../consumer/src/connecting/pool.js';
import { createLoaderMetrics } from '../../consumer/src/metrics.js';
import { createProducerMetrics } from '../../producer/src/metrics.js';
import { createLogger } from '../../shared/src/logger.js';
import { createMetricsRegistry, startOpsServer } from '../../shared/src/ops-server.js';

/** Every series name, with the _bucket/_sum/_count series of histograms and Prometheus' own. */
export async function exportedSeries(): Promise<Set<string>> {
  const producer = createMetricsRegistry('producer');
  createProducerMetrics(producer);
  const consumer = createMetricsRegistry('consumer');
  createLoaderMetrics(consumer, { totalCount: 0, idleCount: 0, waitingCount: 0 } as Pool);
  // The readiness metrics come with the ops server.
  const ops = await startOpsServer({
    port: 0,
    registry: consumer,
    readiness: () => [],
    logger: createLogger({ name: 'series', level: 'silent' }),
  });
  await ops.stop();
  const names = new Set(['up', 'ALERTS', 'user_actions_memory_limit_bytes']); // Prometheus' own; the limit only where there is one
  for (const registry of [producer, consumer]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

/** The words of a PromQL expression that are not strings, durations, numbers or in `notSeries`. */
export function wordsOf(expression: string, notSeries: ReadonlySet<string>): string[] {
  return (expression.replace(/"[^"]*"|\[[^\]]*\]|\boffset \w+/g, '').match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []).filter(
    (word) => !notSeries.has(word),
  );
}
