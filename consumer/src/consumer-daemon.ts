/** The consumer daemon: its settings and logger from the environment, then the consumer until a signal stops it. */
import { runDaemon, startDaemonProcess } from '@user-actions/shared';
import { consumerSettings, loadConsumerConfig } from './config.js';
import { startConsumer } from './consumer.js';

const { config, logger } = startDaemonProcess(
  {
    name: 'consumer',
    summary: "Stores every user-action event from Kafka in PostgreSQL's useractions table, exactly once.",
    settings: consumerSettings,
  },
  loadConsumerConfig,
);

runDaemon(() => startConsumer(config, logger), { logger });
