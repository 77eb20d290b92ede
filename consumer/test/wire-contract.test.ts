/**
 * The contract between the two daemons: every event our producer sends — simulated or the original
 * system's random ones — is read by the consumer's fast path (canonical-event.ts), and gives the same
 * row as the general path. If the producer's text drifted (another member order, spaces), every event
 * would silently take the slow path; this test fails instead.
 */
import { en, Faker } from '@faker-js/faker';
import { describe, expect, it } from 'vitest';
import { outgoing } from '../../producer/src/events/event-batch.js';
import { generateEvent } from '../../producer/src/events/original-events.js';
import { Simulation } from '../../producer/src/events/simulation.js';
import { readCanonicalEvent } from '../src/decoding/canonical-event.js';
import { decodeMessage } from '../src/decoding/decode-message.js';

const position = { topic: 'user-actions', partition: 0, offset: '0' };

function checkContract(texts: readonly string[]) {
  const slowOnly = texts.filter((text) => readCanonicalEvent(text) === undefined);
  expect(slowOnly.slice(0, 3)).toEqual([]);
  for (const text of texts.slice(0, 2_000)) {
    const fast = decodeMessage({ ...position, value: text });
    // A leading space is still the same JSON, but not the producer's exact text: the general path.
    const general = decodeMessage({ ...position, value: ` ${text}` });
    expect(fast).toEqual(general);
    expect(fast.ok).toBe(true);
  }
}

describe("the producer's events on the consumer's fast path", () => {
  it.each([1, 42, 2026])('holds for every simulated event (seed %i)', (seed) => {
    const simulation = new Simulation({ users: 500, seed });
    checkContract(Array.from({ length: 20_000 }, () => simulation.next().json));
  });

  it("holds for the original system's random events (SIM_USERS=0)", () => {
    const faker = new Faker({ locale: [en] });
    faker.seed(7);
    checkContract(Array.from({ length: 5_000 }, () => outgoing(generateEvent(faker)).json));
  });
});
