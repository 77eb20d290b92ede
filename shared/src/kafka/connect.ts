/** Start-up that waits for the brokers instead of crashing, and stops at once when it can never work. */
import { FATAL_CODES, FatalError } from '../errors.js';
import { LOG_EVENT } from '../log-events.js';
import type { Logger } from '../logger.js';
import { logRetries, withRetry } from '../retry.js';
import { abandonedOnAbort } from '../service.js';
import type { KafkaConnection } from './client.js';
import { kafkaVerdict } from './errors.js';
import { kafkaConfigurationProblem } from './listener.js';

/**
 * Runs `connect` until the broker answers, logging what it waits for; fatal errors stop at once. Before
 * the first attempt and each retry it asks the brokers whether they speak what `kafkaSecurity` says (SASL or
 * not, TLS or not, Kafka at all): a mismatch stops the daemon with one line saying what to set, where the
 * clients would otherwise retry forever.
 */
export async function connectWithRetry(
  connect: () => Promise<void>,
  { brokers, kafkaSecurity: security }: Pick<KafkaConnection, 'brokers' | 'kafkaSecurity'>,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const checkListeners = async () => {
    const problem = await abandonedOnAbort(kafkaConfigurationProblem(brokers, security), signal);
    if (problem) throw new FatalError(problem, { code: FATAL_CODES.misconfigured });
  };
  const logRetry = logRetries(logger, 'waiting for Kafka', { event: LOG_EVENT.waitingForKafka, brokers });
  await checkListeners();
  // An attempt runs the client's own retries, many seconds against a refused port: a stop abandons it.
  await withRetry(() => abandonedOnAbort(connect(), signal), {
    verdictOf: kafkaVerdict,
    signal,
    onRetry: async (error, attempt, delayMs) => {
      await checkListeners();
      logRetry(error, attempt, delayMs);
    },
  });
}
