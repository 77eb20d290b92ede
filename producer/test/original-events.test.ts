import { en, Faker } from '@faker-js/faker';
import { ACTIONS, parseUserActionEvent } from '@user-actions/shared';
import { describe, expect, it } from 'vitest';
import { generateEvent } from '../src/events/original-events.js';

describe('generated events', () => {
  const faker = new Faker({ locale: [en] });
  faker.seed(42);
  const events = Array.from({ length: 2_000 }, () => generateEvent(faker, new Date('2026-01-01T00:00:00Z')));

  it('all pass the schema the consumer applies', () => {
    for (const event of events) expect(parseUserActionEvent(JSON.stringify(event)).ok).toBe(true);
  });

  it('use every one of the 16 actions', () => {
    expect(new Set(events.map((event) => event.Action))).toEqual(new Set(ACTIONS));
  });

  it('each have their own EventId and a device in the original "Browser on OS" form', () => {
    expect(new Set(events.map((event) => event.EventId)).size).toBe(events.length);
    for (const event of events) expect(event.Metadata?.Device).toMatch(/^.+ on .+$/);
  });
});
