/** `npm run dlq:replay`: replays the dead-letter topic into the pipeline once, then exits. */
import { createLogger, loadConfigOrExit, loadDotenv, runDaemon } from '@user-actions/shared';
import { loadConsumerConfig } from './config.js';
import { replayDeadLetters } from './dlq-replay.js';

loadDotenv();
const config = loadConfigOrExit('dlq-replay', loadConsumerConfig);
const logger = createLogger({ name: 'dlq-replay', level: config.logLevel });

runDaemon(
  async (signal) => {
    const replayed = await replayDeadLetters(config, logger, signal);
    logger.info(
      { replayed, from: config.deadLetterTopic },
      replayed === 0 ? 'no dead letters to replay' : 'replayed dead letters',
    );
  },
  { logger, shutdownGraceMs: 9_000 },
);
