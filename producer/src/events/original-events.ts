/** Faker-made user actions in the original system's wire format, plus an `EventId`. */
import { randomUUID } from 'node:crypto';
import { faker as defaultFaker, type Faker } from '@faker-js/faker';
import { ACTIONS, type UserActionEvent } from '@user-actions/shared/event/schema';
import { BROWSERS, SYSTEMS } from './devices.js';
import { timeOrderedUuidFrom } from './ids.js';
import { isoTimestamp } from './timestamps.js';

function ipv4(faker: Faker): string {
  // Four numbers: a third of the cost of faker.internet.ipv4(), the same addresses.
  const octet = () => faker.number.int(255);
  return `${octet()}.${octet()}.${octet()}.${octet()}`;
}

export function generateEvent(faker: Faker = defaultFaker, now?: Date): UserActionEvent {
  const timeMs = now ? now.getTime() : Date.now();
  return {
    // Ten times cheaper than faker.string.uuid(), which would cost a load test a third of its speed.
    EventId: timeOrderedUuidFrom(timeMs, Math.random),
    UserId: randomUUID(),
    Action: faker.helpers.arrayElement(ACTIONS),
    Metadata: {
      IpAddress: ipv4(faker),
      Device: `${faker.helpers.arrayElement(BROWSERS)} on ${faker.helpers.arrayElement(SYSTEMS)}`,
    },
    Timestamp: isoTimestamp(timeMs),
  };
}
