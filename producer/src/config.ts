import { commonEnvShape, type Env, integerSchema, kafkaNameSchema, type LogLevel, parseEnv } from '@user-actions/shared';
import { z } from 'zod';

export const producerEnvSchema = z.object({
  ...commonEnvShape,
  KAFKA_CLIENT_ID: kafkaNameSchema.default('user-actions-producer').describe('Client id shown by the broker'),
  // Fractions allowed: 0.1 is 10,000 events per second.
  PRODUCER_INTERVAL_MS: z.coerce
    .number({ error: 'must be a number of milliseconds from 0 to 3600000' })
    .min(0, 'must be a number of milliseconds from 0 to 3600000')
    .max(3_600_000, 'must be a number of milliseconds from 0 to 3600000')
    .default(500)
    .describe('Milliseconds between two events (fractions allowed); 0 = as fast as acknowledged'),
  PRODUCER_COUNT: integerSchema(0, Number.MAX_SAFE_INTEGER).default(0).describe('Stop after this many events; 0 = never'),
  LOG_SUMMARY_INTERVAL_MS: integerSchema(100, 3_600_000).default(5_000).describe('Milliseconds between summary log lines'),
});

export interface ProducerConfig {
  brokers: string[];
  topic: string;
  topicPartitions: number;
  clientId: string;
  /** Time between two events; 0 sends as fast as the broker acknowledges. */
  intervalMs: number;
  /** Stop (and exit 0) after this many events; 0 runs until stopped. */
  count: number;
  logLevel: LogLevel;
  summaryIntervalMs: number;
  metricsPort: number;
}

export function loadProducerConfig(env: Env): ProducerConfig {
  const parsed = parseEnv(producerEnvSchema, env);
  return {
    brokers: parsed.KAFKA_BROKERS,
    topic: parsed.KAFKA_TOPIC,
    topicPartitions: parsed.KAFKA_TOPIC_PARTITIONS,
    clientId: parsed.KAFKA_CLIENT_ID,
    intervalMs: parsed.PRODUCER_INTERVAL_MS,
    count: parsed.PRODUCER_COUNT,
    logLevel: parsed.LOG_LEVEL,
    summaryIntervalMs: parsed.LOG_SUMMARY_INTERVAL_MS,
    metricsPort: parsed.METRICS_PORT,
  };
}
