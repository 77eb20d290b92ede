/** The consumer's settings, each defined once: its variable, its schema and the name the code uses. */
import { accessSync, constants } from 'node:fs';
import {
  booleanSchema,
  ConfigError,
  daemonSettings,
  type Env,
  integerSchema,
  kafkaNameSchema,
  parseDaemonSettings,
  setting,
} from '@user-actions/shared';
import { parseDatabaseHosts } from '@user-actions/shared/postgres/database-hosts';
import { tableSettings } from '@user-actions/shared/postgres/table-name';
import { z } from 'zod';
import { DEFAULT_DATABASE_TIMEOUTS } from './connecting/connection-guard.js';
import { PARTITION_INTERVALS, parseRetention } from './schema/partition-layout.js';
import type { PartitionPolicy } from './schema/partition-maintenance.js';
import type { TableName } from './sql/sql.js';

const ratioSchema = z.coerce
  .number({ error: 'must be a number from 0 to 1' })
  .min(0, 'must be a number from 0 to 1')
  .max(1, 'must be a number from 0 to 1');

export const consumerSettings = daemonSettings('user-actions-consumer', {
  groupId: setting('KAFKA_GROUP_ID', kafkaNameSchema.default('user-action-loader').describe('Consumer group')),
  databaseUrl: setting(
    'DATABASE_URL',
    z
      .string()
      .superRefine((value, context) => {
        const hosts = parseDatabaseHosts(value);
        if (typeof hosts === 'string') context.addIssue({ code: 'custom', message: hosts });
      })
      .default('postgres://myuser:mypassword@localhost:5432/MyDb')
      .describe(
        'PostgreSQL connection URL; several hosts as host1:5432,host2:5432 (the writable one is used); TLS with ?sslmode=verify-full',
      ),
  ),
  ...tableSettings,
  databaseCaFile: setting(
    'DATABASE_CA_FILE',
    z
      .string()
      .refine(isReadable, 'cannot read this file')
      .optional()
      .describe("PEM file of the CA that signed PostgreSQL's certificate (implies sslmode=verify-full)"),
  ),
  statementTimeoutMs: setting(
    'DATABASE_STATEMENT_TIMEOUT_MS',
    integerSchema(1_000, 3_600_000)
      .default(DEFAULT_DATABASE_TIMEOUTS.statementMs)
      .describe(
        "PostgreSQL's statement_timeout for the consumer's statements (a lock wait past it is retried); the consumer drops a connection silent this long plus 5 s",
      ),
  ),
  connectTimeoutMs: setting(
    'DATABASE_CONNECT_TIMEOUT_MS',
    integerSchema(500, 600_000)
      .default(DEFAULT_DATABASE_TIMEOUTS.connectMs)
      .describe('How long opening a PostgreSQL connection may take, per host'),
  ),
  partitionInterval: setting(
    'DATABASE_PARTITION_INTERVAL',
    z
      .enum(PARTITION_INTERVALS, { error: `must be one of ${PARTITION_INTERVALS.join(', ')}` })
      .default('day')
      .describe('The table is partitioned by timestamp, one partition per hour, day, week or month; none = one plain table'),
  ),
  retention: setting(
    'DATABASE_RETENTION',
    z
      .string()
      .transform((text, context) => {
        const retention = parseRetention(text);
        if (typeof retention === 'string') {
          context.addIssue({ code: 'custom', message: retention });
          return z.NEVER;
        }
        return retention;
      })
      .optional()
      .describe('Drop partitions wholly older than this (30 days, 12 hours, 2 weeks, 6 months); unset = keep everything'),
  ),
  /** Where messages that cannot be stored go; `<KAFKA_TOPIC>.dlq` unless set. */
  deadLetterTopic: setting(
    'KAFKA_DLQ_TOPIC',
    kafkaNameSchema.optional().describe('Dead-letter topic (default: <KAFKA_TOPIC>.dlq)'),
  ),
  deadLetterRetentionMs: setting(
    'KAFKA_DLQ_RETENTION_MS',
    integerSchema(-1, Number.MAX_SAFE_INTEGER)
      .default(2_592_000_000)
      .describe(
        "The dead-letter topic's retention.ms when the consumer creates it (30 days: dead letters wait for a person); -1 = forever",
      ),
  ),
  deadLetterMaxRatio: setting(
    'DLQ_MAX_RATIO',
    ratioSchema.default(0.5).describe('Stop when more than this share of recent messages are dead letters; 1 = never'),
  ),
  deadLetterWindow: setting(
    'DLQ_RATIO_WINDOW',
    integerSchema(1, 10_000_000).default(1_000).describe('How many recent messages DLQ_MAX_RATIO judges'),
  ),
  maxOutageMs: setting(
    'MAX_OUTAGE_MS',
    integerSchema(0, 2_147_483_647)
      .default(300_000)
      .describe('Exit 1 when PostgreSQL stays unreachable this long; 0 = wait forever'),
  ),
  onLostEvents: setting(
    'ON_LOST_EVENTS',
    z
      .enum(['stop', 'continue'], { error: 'must be stop or continue' })
      .default('stop')
      .describe('Events PostgreSQL lost that Kafka no longer holds: stop, or continue from the oldest event Kafka has'),
  ),
  autoMigrate: setting(
    'AUTO_MIGRATE',
    booleanSchema.default(true).describe('Create or adopt the table at start; false needs only SELECT and INSERT on it'),
  ),
  sessionTimeoutMs: setting(
    'KAFKA_SESSION_TIMEOUT_MS',
    integerSchema(6_000, 300_000).default(10_000).describe("How soon a crashed consumer's partitions go to the others"),
  ),
});

export type ConsumerConfig = ReturnType<typeof loadConsumerConfig>;

// Reads the file system: a CA file that is not there is a configuration problem, reported with the rest.
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
  // Only the query is touched: a URL with several hosts is not one the URL class can parse.
  const [address = '', query = ''] = databaseUrl.split(/\?(.*)/s);
  const params = new URLSearchParams(query);
  params.set('sslrootcert', caFile);
  if (!params.has('sslmode')) params.set('sslmode', 'verify-full');
  return `${address}?${params}`;
}

export function loadConsumerConfig(env: Env) {
  const { tableName, tableSchema, databaseCaFile, partitionInterval, retention, ...values } = parseDaemonSettings(
    consumerSettings,
    env,
  );
  const table: TableName = tableSchema === undefined ? { name: tableName } : { schema: tableSchema, name: tableName };
  if (retention !== undefined && partitionInterval === 'none') {
    throw new ConfigError(['DATABASE_RETENTION needs a partitioned table: DATABASE_PARTITION_INTERVAL must not be none']);
  }
  const partitions: PartitionPolicy | undefined =
    partitionInterval === 'none' ? undefined : { unit: partitionInterval, ...(retention && { retention }) };
  return {
    ...values,
    partitions,
    databaseUrl: withCaFile(values.databaseUrl, databaseCaFile),
    table,
    deadLetterTopic: values.deadLetterTopic ?? `${values.topic}.dlq`,
  };
}
