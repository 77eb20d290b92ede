/** `npm run dlq:replay`: replays the dead-letter topic into the pipeline once, then exits. */
import { runDaemon, startDaemonProcess } from '@user-actions/shared';
import { consumerSettings, loadConsumerConfig } from './config.js';
import { startReplay } from './dlq-replay.js';

const { config, logger } = startDaemonProcess(
  {
    name: 'dlq-replay',
    summary: 'Sends the dead letters not yet replayed back to the topic they came from, then exits.',
    settings: consumerSettings,
  },
  loadConsumerConfig,
);

runDaemon(() => startReplay(config, logger), { logger });
