import { accessSync, constants } from 'node:fs';
import {
  booleanSchema,
  checkKafkaSecurity,
  commonEnvShape,
  type Env,
  integerSchema,
  type KafkaSecurity,
  kafkaNameSchema,
  kafkaSecurityEnvShape,
  kafkaSecurityFrom,
  type LogLevel,
  parseEnv,
} from '@user-actions/shared';
import { z } from 'zod';
import { DEFAULT_TABLE, IDENTIFIER, type TableName } from './storing/sql.js';

const identifierSchema = z
  .string()
  .regex(IDENTIFIER, 'must be a plain identifier: a-z, 0-9 and _, not starting with a digit, at most 63');

export const consumerEnvSchema = z
  .object({
    ...commonEnvShape,
    ...kafkaSecurityEnvShape,
    KAFKA_CLIENT_ID: kafkaNameSchema.default('user-actions-consumer').describe('Client id shown by the broker'),
    KAFKA_GROUP_ID: kafkaNameSchema.default('user-action-loader').describe('Consumer group'),
    DATABASE_URL: z
      .string()
      .refine((value) => /^postgres(ql)?:\/\//.test(value) && URL.canParse(value), 'must be a postgres:// URL')
      .default('postgres://myuser:mypassword@localhost:5432/MyDb')
      .describe('PostgreSQL connection URL; TLS with ?sslmode=verify-full (or require, no-verify)'),
    DATABASE_TABLE: identifierSchema.default(DEFAULT_TABLE.name).describe('Table of the events'),
    DATABASE_SCHEMA: identifierSchema.optional().describe("Schema of the table (default: the connection's current schema)"),
    DATABASE_CA_FILE: z
      .string()
      .refine(isReadable, 'cannot read this file')
      .optional()
      .describe("PEM file of the CA that signed PostgreSQL's certificate (implies sslmode=verify-full)"),
    LOG_SUMMARY_INTERVAL_MS: integerSchema(100, 3_600_000).default(5_000).describe('Milliseconds between summary log lines'),
    KAFKA_DLQ_TOPIC: kafkaNameSchema.optional().describe('Dead-letter topic (default: <KAFKA_TOPIC>.dlq)'),
    DLQ_MAX_RATIO: z.coerce
      .number({ error: 'must be a number from 0 to 1' })
      .min(0, 'must be a number from 0 to 1')
      .max(1, 'must be a number from 0 to 1')
      .default(0.5)
      .describe('Stop when more than this share of recent messages are dead letters; 1 = never'),
    DLQ_RATIO_WINDOW: integerSchema(1, 10_000_000).default(1_000).describe('How many recent messages DLQ_MAX_RATIO judges'),
    MAX_OUTAGE_MS: integerSchema(0, 2_147_483_647)
      .default(300_000)
      .describe('Exit 1 when PostgreSQL stays unreachable this long; 0 = wait forever'),
    AUTO_MIGRATE: booleanSchema
      .default(true)
      .describe('Create or adopt the table at start; false needs only SELECT and INSERT on it'),
    KAFKA_SESSION_TIMEOUT_MS: integerSchema(6_000, 300_000)
      .default(10_000)
      .describe("How soon a crashed consumer's partitions go to the others"),
  })
  .superRefine(checkKafkaSecurity);

export interface ConsumerConfig {
  brokers: string[];
  kafkaSecurity: KafkaSecurity;
  topic: string;
  topicPartitions: number;
  clientId: string;
  groupId: string;
  databaseUrl: string;
  table: TableName;
  logLevel: LogLevel;
  summaryIntervalMs: number;
  /** Where messages that cannot be stored go; `<KAFKA_TOPIC>.dlq` unless set. */
  deadLetterTopic: string;
  /** Largest share of dead letters among the last `deadLetterWindow` messages before the consumer stops. */
  deadLetterMaxRatio: number;
  deadLetterWindow: number;
  /** How long PostgreSQL may stay unreachable before the consumer exits non-zero; 0 = forever. */
  maxOutageMs: number;
  /** How soon the group notices a consumer that died without leaving, and gives its partitions to others. */
  sessionTimeoutMs: number;
  metricsPort: number;
  /** Create or adopt the table at start-up; without it the consumer needs no DDL rights. */
  autoMigrate: boolean;
}

/** A pure function of its input, so that every rule is testable without touching `process.env`. */

function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** node-postgres reads the CA named by `sslrootcert` in the URL; without an sslmode it verifies fully. */
export function withCaFile(databaseUrl: string, caFile: string | undefined): string {
  if (caFile === undefined) return databaseUrl;
  const url = new URL(databaseUrl);
  url.searchParams.set('sslrootcert', caFile);
  if (!url.searchParams.has('sslmode')) url.searchParams.set('sslmode', 'verify-full');
  return url.toString();
}

export function loadConsumerConfig(env: Env): ConsumerConfig {
  const parsed = parseEnv(consumerEnvSchema, env);
  return {
    brokers: parsed.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityFrom(parsed),
    topic: parsed.KAFKA_TOPIC,
    topicPartitions: parsed.KAFKA_TOPIC_PARTITIONS,
    clientId: parsed.KAFKA_CLIENT_ID,
    groupId: parsed.KAFKA_GROUP_ID,
    databaseUrl: withCaFile(parsed.DATABASE_URL, parsed.DATABASE_CA_FILE),
    table:
      parsed.DATABASE_SCHEMA === undefined
        ? { name: parsed.DATABASE_TABLE }
        : { schema: parsed.DATABASE_SCHEMA, name: parsed.DATABASE_TABLE },
    logLevel: parsed.LOG_LEVEL,
    summaryIntervalMs: parsed.LOG_SUMMARY_INTERVAL_MS,
    deadLetterTopic: parsed.KAFKA_DLQ_TOPIC ?? `${parsed.KAFKA_TOPIC}.dlq`,
    deadLetterMaxRatio: parsed.DLQ_MAX_RATIO,
    deadLetterWindow: parsed.DLQ_RATIO_WINDOW,
    maxOutageMs: parsed.MAX_OUTAGE_MS,
    sessionTimeoutMs: parsed.KAFKA_SESSION_TIMEOUT_MS,
    metricsPort: parsed.METRICS_PORT,
    autoMigrate: parsed.AUTO_MIGRATE,
  };
}
