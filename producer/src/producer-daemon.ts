/** The producer daemon: its settings and logger from the environment and command line, then the producer until it is done or stopped. */
import { runDaemon, startDaemonProcess } from '@user-actions/shared';
import { loadProducerConfig, producerOptions, producerSettings } from './config.js';
import { startProducer } from './producer.js';

const { config, logger } = startDaemonProcess(
  {
    name: 'producer',
    summary: 'Sends simulated user-action events to Kafka, one every PRODUCER_INTERVAL_MS.',
    settings: producerSettings,
    options: producerOptions,
  },
  (env) => loadProducerConfig(env, process.argv.slice(2)),
);

runDaemon(() => startProducer(config, logger), { logger });
