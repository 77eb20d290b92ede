import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnvShape, parseEnv } from '../src/config.js';

const schema = z.object(commonEnvShape);

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    expect(parseEnv(schema, {})).toEqual({
      KAFKA_BROKERS: ['localhost:9092'],
      KAFKA_TOPIC: 'user-actions',
      KAFKA_TOPIC_PARTITIONS: 6,
      LOG_LEVEL: 'info',
      METRICS_PORT: 9464,
    });
  });

  it('splits a comma-separated broker list and treats empty variables as unset', () => {
    const parsed = parseEnv(schema, { KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092,', KAFKA_TOPIC: '' });
    expect(parsed.KAFKA_BROKERS).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(parsed.KAFKA_TOPIC).toBe('user-actions');
  });

  it('reports every bad variable in one error', () => {
    const env = { KAFKA_BROKERS: 'kafka', KAFKA_TOPIC: 'no spaces', KAFKA_TOPIC_PARTITIONS: '0', LOG_LEVEL: 'chatty' };
    let caught: unknown;
    try {
      parseEnv(schema, env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(Object.keys(env).sort());
    expect((caught as ConfigError).message).toContain('KAFKA_TOPIC_PARTITIONS: must be a whole number from 1 to 10000');
  });
});
