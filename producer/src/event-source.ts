/**
 * Where the producer's events come from: a worker thread that generates and serialises them (see
 * generator-worker.ts), asked for a batch at a time.
 */
import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Logger, UtilizationSource } from '@user-actions/shared';
import type { ProducerConfig } from './config.js';
import type { EventBatch } from './event-batch.js';
import type { EventGeneratorOptions } from './event-generator.js';

export interface EventSource {
  /** The next `count` events, in order. One request at a time. */
  next(count: number): Promise<EventBatch>;
  /** How busy the generator thread has been. */
  utilization: UtilizationSource;
  stop(): Promise<void>;
}

/** What the generator thread says once it can generate. */
export const READY = 'ready';

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

  const worker = new Worker(new URL('./generator-worker.js', import.meta.url), { workerData: options });
  let failure: Error | undefined;
  let pending: { resolve: (message: never) => void; reject: (error: Error) => void } | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    pending?.reject(failure);
    pending = undefined;
  };
  /** The worker's next message: that it is ready, then one batch per request. */
  const nextMessage = <Message>() =>
    new Promise<Message>((resolve, reject) => {
      pending = { resolve, reject };
    });
  worker.on('message', (message: unknown) => {
    pending?.resolve(message as never);
    pending = undefined;
  });
  worker.on('error', (error) => fail(new Error(`the event generator failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => fail(new Error(`the event generator stopped (exit code ${code})`)));

  await nextMessage<typeof READY>();
  return {
    next(count) {
      if (failure) return Promise.reject(failure);
      if (pending) return Promise.reject(new Error('EventSource.next called again before the last batch arrived'));
      const batch = nextMessage<EventBatch>();
      worker.postMessage(count);
      return batch;
    },
    utilization: () => worker.performance.eventLoopUtilization(),
    async stop() {
      failure ??= new Error('the event generator is stopped');
      await worker.terminate();
    },
  };
}
