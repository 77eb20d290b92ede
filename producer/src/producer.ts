/**
 * The producer as one service: the ops server, the summary, the publisher (Kafka), the generator thread
 * and the pacer, each released in reverse order of its start (`shared/src/service.ts`).
 */
import {
  countBy,
  createMetricsRegistry,
  LOG_EVENT,
  type Logger,
  Readiness,
  type Service,
  startOpsServer,
  startService,
  startSummaryLog,
} from '@user-actions/shared';
import type { ProducerConfig } from './config.js';
import { startEventSource } from './event-source.js';
import type { EventBatch } from './events/event-batch.js';
import { createProducerMetrics } from './metrics.js';
import { runPacer } from './pacer.js';
import { startPublisher } from './publisher.js';

// Slower than this, every event gets its own log line (as the original producer did); faster, a summary.
const PER_EVENT_LOG_MIN_INTERVAL_MS = 100;

export function startProducer(config: ProducerConfig, logger: Logger): Service {
  return startService(logger, async ({ signal, onStop }) => {
    const registry = createMetricsRegistry('producer');
    const metrics = createProducerMetrics(registry);
    const readiness = new Readiness({ kafka: 'not connected to Kafka yet' }, logger);
    const ops = await startOpsServer({ port: config.metricsPort, registry, readiness: readiness.check, logger });
    onStop('stop serving metrics', () => ops.stop());
    const summary = startSummaryLog<'sent'>(logger, {
      intervalMs: config.summaryIntervalMs,
      message: 'producer summary',
      event: LOG_EVENT.producerSummary,
      notReady: readiness.check,
    });
    onStop('flush the summary', () => summary.stop());
    const logSent = (batch: EventBatch) => {
      for (const [action, count] of countBy(batch.actions, (action) => action)) metrics.produced.inc({ action }, count);
      if (config.intervalMs < PER_EVENT_LOG_MIN_INTERVAL_MS) {
        summary.add('sent', batch.length);
        // For audits (and the fault-injection suite): exactly which events the broker acknowledged.
        if (logger.isLevelEnabled('debug'))
          logger.debug({ event: LOG_EVENT.acknowledged, eventIds: batch.eventIds }, 'acknowledged');
        return;
      }
      // A line per event says it all; a summary between them would only repeat the count.
      batch.eventIds.forEach((eventId, index) => {
        logger.info({ eventId, userId: batch.userIds[index], action: batch.actions[index] }, 'sent');
      });
    };

    const publisher = await startPublisher(config, logger, signal, {
      onSendRetry: (error) => readiness.unmetBecause('kafka', `sends to Kafka are failing: ${error.message}`),
    });
    onStop('disconnect from Kafka', () => publisher.stop());
    readiness.met('kafka');
    const source = await startEventSource(config, logger);
    onStop('stop generating events', () => source.stop());
    metrics.threads.watch('generator', source.utilization);
    const sent = await runPacer({
      intervalMs: config.intervalMs,
      count: config.count,
      signal,
      generate: (count) => source.next(count),
      send: async (batch) => {
        const stopTimer = metrics.sendSeconds.startTimer();
        await publisher.send(batch);
        stopTimer();
        readiness.met('kafka');
        logSent(batch);
      },
    });
    logger.info(
      { event: LOG_EVENT.stoppedGenerating, sent },
      signal.aborted ? 'stopped generating' : 'sent every requested event',
    );
  });
}
