/**
 * Where the producer's events come from: a worker thread that generates and serialises them (see
 * events/generator-worker.ts), asked for a batch at a time.
 */
import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { type Logger, type UtilizationSource, workerReplies } from '@user-actions/shared';
import type { ProducerConfig } from './config.js';
import type { EventBatch, READY } from './events/event-batch.js';
import type { EventGeneratorOptions } from './events/generator.js';

export interface EventSource {
  /** The next `count` events, in order. */
  next(count: number): Promise<EventBatch>;
  /** How busy the generator thread has been. */
  utilization: UtilizationSource;
  stop(): Promise<void>;
}

/** Resolves once the generator thread is ready, so that the first events are not late from the start. */
export async function startEventSource(
  config: Pick<ProducerConfig, 'simUsers' | 'simSeed' | 'simActionMix'>,
  logger: Logger,
): Promise<EventSource> {
  const options: EventGeneratorOptions = {
    users: config.simUsers,
    seed: config.simSeed ?? randomInt(2 ** 31 - 1),
    mix: config.simActionMix,
  };
  if (options.users === 0) logger.info('random events, a new user each (SIM_USERS=0)');
  // Logged so that any run can be repeated with --seed.
  else logger.info({ users: options.users, seed: options.seed }, 'simulating a population of users');

  const worker = new Worker(new URL('./events/generator-worker.js', import.meta.url), { workerData: options });
  const generator = workerReplies(worker, 'event generator');
  await generator.next<typeof READY>();
  return {
    next: (count) => generator.request<EventBatch>(count),
    utilization: generator.utilization,
    stop: () => generator.stop(),
  };
}
