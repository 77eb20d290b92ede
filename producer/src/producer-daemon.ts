/** The producer daemon: wires configuration, logging, the event generator, the pacer and Kafka together. */
import {
  countBy,
  createMetricsRegistry,
  LOG_EVENT,
  Readiness,
  runDaemon,
  runShutdownSteps,
  startDaemonProcess,
  startOpsServer,
  startSummaryLog,
} from '@user-actions/shared';
import { loadProducerConfig, producerOptions, producerSettings } from './config.js';
import { type EventSource, startEventSource } from './event-source.js';
import type { EventBatch } from './events/event-batch.js';
import { createProducerMetrics } from './metrics.js';
import { runPacer } from './pacer.js';
import { type Publisher, startPublisher } from './publisher.js';

// Slower than this, every event gets its own log line (as the original producer did); faster, a summary.
const PER_EVENT_LOG_MIN_INTERVAL_MS = 100;

const { config, logger } = startDaemonProcess(
  {
    name: 'producer',
    summary: 'Sends simulated user-action events to Kafka, one every PRODUCER_INTERVAL_MS.',
    settings: producerSettings,
    options: producerOptions,
  },
  (env) => loadProducerConfig(env, process.argv.slice(2)),
);

runDaemon(
  async (signal) => {
    const registry = createMetricsRegistry('producer');
    const metrics = createProducerMetrics(registry);
    const readiness = new Readiness({ kafka: 'not connected to Kafka yet' }, logger);
    const ops = await startOpsServer({ port: config.metricsPort, registry, readiness: readiness.check, logger });
    let publisher: Publisher | undefined;
    let events: EventSource | undefined;
    const summary = startSummaryLog<'sent'>(logger, {
      intervalMs: config.summaryIntervalMs,
      message: 'producer summary',
      event: LOG_EVENT.producerSummary,
      notReady: readiness.check,
    });
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
    try {
      publisher = await startPublisher(config, logger, signal, {
        onSendRetry: (error) => readiness.unmetBecause('kafka', `sends to Kafka are failing: ${error.message}`),
      });
      readiness.met('kafka');
      const { send } = publisher;
      const source = await startEventSource(config, logger);
      metrics.threads.watch('generator', source.utilization);
      events = source;
      const sent = await runPacer({
        intervalMs: config.intervalMs,
        count: config.count,
        signal,
        generate: (count) => source.next(count),
        send: async (batch) => {
          const stopTimer = metrics.sendSeconds.startTimer();
          await send(batch);
          stopTimer();
          readiness.met('kafka');
          logSent(batch);
        },
      });
      logger.info(
        { event: LOG_EVENT.stoppedGenerating, sent },
        signal.aborted ? 'stopped generating' : 'sent every requested event',
      );
    } finally {
      await runShutdownSteps(logger, [
        ['stop generating events', async () => events?.stop()],
        ['flush the summary', async () => summary.stop()],
        ['disconnect from Kafka', async () => publisher?.stop()],
        ['stop serving metrics', () => ops.stop()],
      ]);
    }
  },
  { logger },
);
