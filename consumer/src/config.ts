import { commonEnvShape, type Env, integerSchema, kafkaNameSchema, type LogLevel, parseEnv } from '@user-actions/shared';
import { z } from 'zod';

export const consumerEnvSchema = z.object({
  ...commonEnvShape,
  KAFKA_CLIENT_ID: kafkaNameSchema.default('user-actions-consumer'),
  KAFKA_GROUP_ID: kafkaNameSchema.default('user-action-loader'),
  DATABASE_URL: z
    .string()
    .refine((value) => /^postgres(ql)?:\/\//.test(value) && URL.canParse(value), 'must be a postgres:// URL')
    .default('postgres://myuser:mypassword@localhost:5432/MyDb'),
  LOG_SUMMARY_INTERVAL_MS: integerSchema(100, 3_600_000).default(5_000),
});

export interface ConsumerConfig {
  brokers: string[];
  topic: string;
  topicPartitions: number;
  clientId: string;
  groupId: string;
  databaseUrl: string;
  logLevel: LogLevel;
  summaryIntervalMs: number;
}

/** A pure function of its input, so that every rule is testable without touching `process.env`. */
export function loadConsumerConfig(env: Env): ConsumerConfig {
  const parsed = parseEnv(consumerEnvSchema, env);
  return {
    brokers: parsed.KAFKA_BROKERS,
    topic: parsed.KAFKA_TOPIC,
    topicPartitions: parsed.KAFKA_TOPIC_PARTITIONS,
    clientId: parsed.KAFKA_CLIENT_ID,
    groupId: parsed.KAFKA_GROUP_ID,
    databaseUrl: parsed.DATABASE_URL,
    logLevel: parsed.LOG_LEVEL,
    summaryIntervalMs: parsed.LOG_SUMMARY_INTERVAL_MS,
  };
}
