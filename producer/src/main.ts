#!/usr/bin/env -S node --max-semi-space-size=64
/** The producer daemon: wires configuration, logging, the event generator, the pacer and Kafka together. */
import {
  countBy,
  createLogger,
  createMetricsRegistry,
  exitWithHelpIfAsked,
  formatHelp,
  loadConfigOrExit,
  loadDotenv,
  Readiness,
  runDaemon,
  runShutdownSteps,
  startOpsServer,
  startSummaryLog,
  type UserActionEvent,
} from '@user-actions/shared';
import { loadProducerConfig, producerEnvSchema, producerOptions } from './config.js';
import { createEventSource } from './event-source.js';
import { createProducerMetrics } from './metrics.js';
import { runPacer } from './pacer.js';
import { type Publisher, startPublisher } from './publisher.js';

// Slower than this, every event gets its own log line (as the original producer did); faster, a summary.
const PER_EVENT_LOG_MIN_INTERVAL_MS = 100;

exitWithHelpIfAsked(
  formatHelp(
    'producer',
    'Sends simulated user-action events to Kafka, one every PRODUCER_INTERVAL_MS.',
    producerEnvSchema.shape,
    producerOptions,
  ),
);
loadDotenv();
const config = loadConfigOrExit('producer', (env) => loadProducerConfig(env, process.argv.slice(2)));
const logger = createLogger({ name: 'producer', level: config.logLevel });

runDaemon(
  async (signal) => {
    const registry = createMetricsRegistry('producer');
    const metrics = createProducerMetrics(registry);
    const readiness = new Readiness({ kafka: 'not connected to Kafka yet' });
    const ops = await startOpsServer({ port: config.metricsPort, registry, readiness: readiness.check, logger });
    let publisher: Publisher | undefined;
    const summary = startSummaryLog<'sent'>(logger, { intervalMs: config.summaryIntervalMs, message: 'producer summary' });
    const logSent = (events: readonly UserActionEvent[]) => {
      summary.add('sent', events.length);
      for (const [action, count] of countBy(events, (event) => event.Action)) metrics.produced.inc({ action }, count);
      if (config.intervalMs < PER_EVENT_LOG_MIN_INTERVAL_MS) {
        // For audits (and the fault-injection suite): exactly which events the broker acknowledged.
        if (logger.isLevelEnabled('debug')) logger.debug({ eventIds: events.map((event) => event.EventId) }, 'acknowledged');
        return;
      }
      for (const event of events) {
        logger.info({ eventId: event.EventId, userId: event.UserId, action: event.Action }, 'sent');
      }
    };
    try {
      publisher = await startPublisher(config, logger, signal, {
        onSendRetry: (error) => readiness.unmetBecause('kafka', `sends to Kafka are failing: ${error.message}`),
      });
      readiness.met('kafka');
      const { send } = publisher;
      const sent = await runPacer({
        intervalMs: config.intervalMs,
        count: config.count,
        signal,
        generate: createEventSource(config, logger),
        send: async (events) => {
          const stopTimer = metrics.sendSeconds.startTimer();
          await send(events);
          stopTimer();
          readiness.met('kafka');
          logSent(events);
        },
      });
      logger.info({ sent }, signal.aborted ? 'stopped generating' : 'sent every requested event');
    } finally {
      await runShutdownSteps(logger, [
        ['flush the summary', async () => summary.stop()],
        ['disconnect from Kafka', async () => publisher?.stop()],
        ['stop serving metrics', () => ops.stop()],
      ]);
    }
  },
  { logger, shutdownGraceMs: 9_000 },
);
