import { describe, expect, inject, it } from 'vitest';
import { createReliableProducer } from '../../shared/src/kafka/reliable-producer.js';
import { createLogger } from '../../shared/src/logger.js';
import { createTopic, readTopic } from '../support/kafka.js';
import { createWorld } from '../support/world.js';

describe('the reliable producer', () => {
  it('writes every message of sends made at the same time to the same partition', async () => {
    const world = await createWorld();
    await createTopic(world.admin, world.topic, 1);
    const producer = createReliableProducer(
      { brokers: inject('kafkaBrokers').split(','), clientId: 'concurrent-sends', kafkaSecurity: { tls: false } },
      createLogger({ name: 'test', level: 'silent' }),
    );
    await producer.connect();
    try {
      // As the consumer's batches of several partitions dead-letter at the same time.
      await Promise.all(
        Array.from({ length: 20 }, (_, send) =>
          producer.send(
            world.topic,
            Array.from({ length: 10 }, (_, index) => ({ key: `k${index}`, value: `${send}/${index}` })),
            AbortSignal.timeout(60_000),
          ),
        ),
      );
    } finally {
      await producer.disconnect();
    }
    const values = (await readTopic(world.kafka, world.admin, world.topic)).map((message) => message.value);
    expect(new Set(values).size).toBe(200);
  });
});
