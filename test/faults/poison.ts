/** Every kind of message the consumer must dead-letter, and a producer that mixes them into a run. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';

const valid = () => ({
  EventId: randomUUID(),
  UserId: randomUUID(),
  Action: 'Login',
  Metadata: { IpAddress: '10.0.0.1', Device: 'Firefox on Linux' },
  Timestamp: new Date().toISOString(),
});

export const POISON_KINDS: Record<string, () => string | null> = {
  'not JSON': () => 'this is not JSON',
  truncated: () => JSON.stringify(valid()).slice(0, 30),
  empty: () => '',
  tombstone: () => null,
  'JSON array': () => '[1, 2, 3]',
  'missing UserId': () => JSON.stringify({ ...valid(), UserId: undefined }),
  'bad UUID': () => JSON.stringify({ ...valid(), UserId: 'user-42' }),
  'unknown action': () => JSON.stringify({ ...valid(), Action: 'Teleport' }),
  'bad timestamp': () => JSON.stringify({ ...valid(), Timestamp: 'yesterday' }),
  'NUL character': () => JSON.stringify({ ...valid(), Metadata: { Device: 'Chrome\u0000' } }),
  'year 0 (PostgreSQL refuses it)': () => JSON.stringify({ ...valid(), Timestamp: '0000-01-01T00:00:00Z' }),
};

/** Sends `count` poison messages, cycling through every kind, spread over `overMs`. */
export async function sendPoison(kafka: Kafka, topic: string, count: number, overMs: number): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const makers = Object.values(POISON_KINDS);
  try {
    for (let sent = 0; sent < count; sent++) {
      const make = makers[sent % makers.length] as () => string | null;
      await producer.send({ topic, acks: -1, messages: [{ key: randomUUID(), value: make() }] });
      await sleep(overMs / count);
    }
  } finally {
    await producer.disconnect();
  }
  return count;
}
