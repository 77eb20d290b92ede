/** What the producer's events are: the simulated population, or the original random events. */
import type { ProducerConfig } from '../config.js';
import { type OutgoingEvent, outgoing } from './event-batch.js';
import { generateEvent } from './original-events.js';
import { Simulation } from './simulation.js';

export interface EventGeneratorOptions {
  /** 0: the original system's random events, a new user each. */
  users: number;
  seed: number;
  mix: ProducerConfig['simActionMix'];
}

export function createEventGenerator({ users, seed, mix }: EventGeneratorOptions): () => OutgoingEvent {
  if (users === 0) return () => outgoing(generateEvent());
  const simulation = new Simulation({ users, seed, mix });
  return () => simulation.next();
}
