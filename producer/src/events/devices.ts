/** Devices and network addresses, as the original system wrote them. */
import type { Faker } from '@faker-js/faker';

export function randomIp(random: () => number): string {
  const octet = () => 1 + Math.floor(random() * 254);
  return `${octet()}.${octet()}.${octet()}.${octet()}`;
}

// Desktop browsers and systems, as in the original system's "Chrome on Windows".
export const BROWSERS = ['Chrome', 'Firefox', 'Safari', 'Edge'] as const;
export const SYSTEMS = ['Windows', 'macOS', 'Linux', 'ChromeOS'] as const;

/** "Browser on OS" as the original system wrote it, or the app on a phone model. */
export function deviceName(faker: Faker): string {
  if (faker.number.int(9) < 4)
    return `App on ${faker.helpers.arrayElement(['iPhone 15', 'iPhone 13', 'Pixel 8', 'Galaxy S24', 'Galaxy A54', 'Xiaomi 13'])}`;
  return `${faker.helpers.arrayElement(BROWSERS)} on ${faker.helpers.arrayElement(SYSTEMS)}`;
}
