/** Faker-made user actions in the original system's wire format, plus an `EventId`. Pure given a faker. */
import { faker as defaultFaker, type Faker } from '@faker-js/faker';
import { ACTIONS, type UserActionEvent } from '@user-actions/shared';

const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera', 'Samsung Internet'] as const;
const SYSTEMS = ['Windows', 'macOS', 'Linux', 'iOS', 'Android', 'ChromeOS'] as const;

export function generateEvent(faker: Faker = defaultFaker, now: Date = new Date()): UserActionEvent {
  return {
    EventId: faker.string.uuid(),
    UserId: faker.string.uuid(),
    Action: faker.helpers.arrayElement(ACTIONS),
    Metadata: {
      IpAddress: faker.internet.ipv4(),
      Device: `${faker.helpers.arrayElement(BROWSERS)} on ${faker.helpers.arrayElement(SYSTEMS)}`,
    },
    Timestamp: now.toISOString(),
  };
}
