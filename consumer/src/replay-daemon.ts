/** `npm run dlq:replay`: replays the dead-letter topic into the pipeline once, then exits. */
import { LOG_EVENT, runDaemon, startDaemonProcess, startService } from '@user-actions/shared';
import { consumerSettings, loadConsumerConfig } from './config.js';
import { replayDeadLetters } from './dlq-replay.js';

const { config, logger } = startDaemonProcess(
  {
    name: 'dlq-replay',
    summary: 'Sends the dead letters not yet replayed back to the topic they came from, then exits.',
    settings: consumerSettings,
  },
  loadConsumerConfig,
);

runDaemon(
  () =>
    startService(logger, async ({ signal }) => {
      const replayed = await replayDeadLetters(config, logger, signal);
      logger.info(
        { event: LOG_EVENT.deadLettersReplayed, replayed, from: config.deadLetterTopic },
        replayed === 0 ? 'no dead letters to replay' : 'replayed dead letters',
      );
    }),
  { logger },
);
