/** Where the producer's events come from: the simulated population, or the original random events. */
import { randomInt } from 'node:crypto';
import type { Logger, UserActionEvent } from '@user-actions/shared';
import type { ProducerConfig } from './config.js';
import { generateEvent } from './generate.js';
import { Simulation } from './simulation.js';

export function createEventSource(
  config: Pick<ProducerConfig, 'simUsers' | 'simSeed' | 'simActionMix'>,
  logger: Logger,
): () => UserActionEvent {
  if (config.simUsers === 0) {
    logger.info('random events, a new user each (SIM_USERS=0)');
    return () => generateEvent();
  }
  const seed = config.simSeed ?? randomInt(2 ** 31 - 1);
  // Logged so that any run can be repeated with --seed.
  logger.info({ users: config.simUsers, seed }, 'simulating a population of users');
  const simulation = new Simulation({ users: config.simUsers, seed, mix: config.simActionMix });
  return () => simulation.next();
}
