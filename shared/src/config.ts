/**
 * Configuration from the environment (and a `.env` file), validated once at start-up.
 * Each setting is defined once: the variable that sets it and its zod schema (which holds the default
 * and the description `--help` prints), under the name the code uses. A daemon's settings are the
 * shared ones below plus its own; `parseSettings` turns every problem into one `ConfigError` that names
 * each bad variable, so an operator fixes them all at once.
 */
import { readFileSync } from 'node:fs';
import { config as loadDotenvFile } from 'dotenv';
import { z } from 'zod';
import { FATAL_CODES, FatalError } from './errors.js';

export type Env = Record<string, string | undefined>;

/** Settings that can never work: the daemon stops (exit 78) with one message naming every bad variable. */
export class ConfigError extends FatalError {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`, {
      code: FATAL_CODES.misconfigured,
    });
  }
}

/** Reads `.env` from the working directory into `process.env`; variables already set win. */
export function loadDotenv(): void {
  loadDotenvFile({ quiet: true });
}

/**
 * Validates the environment against a daemon's schema. Any variable `X` of the schema may instead be given
 * as `X_FILE`, the path of a file holding the value (as Docker and Kubernetes secrets provide them).
 */
export function parseEnv<Schema extends z.ZodObject>(schema: Schema, env: Env, readFile = readSecretFile): z.output<Schema> {
  // An empty variable means "not set", as in docker-compose's `FOO=` or `FOO: ${FOO:-}`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== '')) as Record<
    string,
    string
  >;
  const fileProblems = resolveFileVariables(present, new Set(Object.keys(schema.shape)), readFile);
  const result = schema.safeParse(present);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        // The first path segment is the variable; deeper ones (an index in a list) only add noise.
        const variable = issue.path.length > 0 ? String(issue.path[0]) : 'environment';
        return `${variable}: ${issue.message}`;
      });
  if (result.success && fileProblems.length === 0) return result.data;
  throw new ConfigError([...fileProblems, ...problems]);
}

function readSecretFile(path: string): string {
  // A trailing newline is how editors and `echo` leave secret files; it is never part of the value.
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/**
 * Replaces each `X_FILE` by `X` read from that file, in place, for the daemon's own variables only: other
 * programs' `*_FILE` variables (`SSL_CERT_FILE`, say) are none of its business. Returns the problems found.
 */
function resolveFileVariables(
  env: Record<string, string>,
  variables: ReadonlySet<string>,
  readFile: (path: string) => string,
): string[] {
  const problems: string[] = [];
  for (const [name, path] of Object.entries(env)) {
    const variable = name.slice(0, -'_FILE'.length);
    if (!name.endsWith('_FILE') || !variables.has(variable)) continue;
    delete env[name];
    if (env[variable] !== undefined) {
      problems.push(`${name}: set together with ${variable}; set only one of them`);
      continue;
    }
    try {
      env[variable] = readFile(path);
    } catch (error) {
      problems.push(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  return problems;
}

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$/;
// Kafka's own rule for topic names (and a safe one for group and client ids).
const kafkaName = /^[A-Za-z0-9._-]{1,249}$/;

export const kafkaNameSchema = z.string().regex(kafkaName, 'must be 1-249 characters of A-Z a-z 0-9 . _ -');

export const brokersSchema = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter((broker) => broker.length > 0),
  )
  .pipe(
    z.array(z.string().regex(hostPort, 'each broker must be host:port')).min(1, 'must list at least one broker as host:port'),
  );

export const integerSchema = (min: number, max: number) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: range }).int(range).min(min, range).max(max, range);
};

export const booleanSchema = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A setting: the environment variable that sets it, and its schema (validation, default, description). */
export interface Setting<Schema extends z.ZodType = z.ZodType> {
  readonly variable: string;
  readonly schema: Schema;
}

export function setting<Schema extends z.ZodType>(variable: string, schema: Schema): Setting<Schema> {
  return { variable, schema };
}

export type Settings = Record<string, Setting>;

/** What a daemon's settings hold once parsed, under the names the code uses. */
export type SettingValues<S extends Settings> = { [Name in keyof S]: z.output<S[Name]['schema']> };

/** The settings as one zod object keyed by variable: for validation and for `--help`. */
export function envSchemaOf(settings: Settings): z.ZodObject<Record<string, z.ZodType>> {
  return z.object(Object.fromEntries(Object.values(settings).map(({ variable, schema }) => [variable, schema])));
}

/**
 * Parses the environment into the settings' values. `check` adds the problems only the values together
 * show (a SASL mechanism without a password, say); it runs once each variable is valid on its own.
 */
export function parseSettings<S extends Settings>(
  settings: S,
  env: Env,
  check: (values: SettingValues<S>) => string[] = () => [],
  readFile?: (path: string) => string,
): SettingValues<S> {
  const parsed: Record<string, unknown> = parseEnv(envSchemaOf(settings), env, readFile);
  const values = Object.fromEntries(
    Object.entries(settings).map(([name, { variable }]) => [name, parsed[variable]]),
  ) as SettingValues<S>;
  const problems = check(values);
  if (problems.length > 0) throw new ConfigError(problems);
  return values;
}

/** The settings both daemons read, with the same variables and defaults everywhere. */
export const commonSettings = {
  brokers: setting(
    'KAFKA_BROKERS',
    brokersSchema.default(['localhost:9092']).describe('Kafka brokers, comma-separated host:port'),
  ),
  topic: setting('KAFKA_TOPIC', kafkaNameSchema.default('user-actions').describe('Topic of the user-action events')),
  topicPartitions: setting(
    'KAFKA_TOPIC_PARTITIONS',
    integerSchema(1, 10_000)
      .default(6)
      .describe('Partitions of the topic when it is created (at most this many consumers share the work)'),
  ),
  topicRetentionMs: setting(
    'KAFKA_TOPIC_RETENTION_MS',
    integerSchema(-1, Number.MAX_SAFE_INTEGER)
      .default(604_800_000)
      .describe("The topic's retention.ms when a daemon creates it (7 days, Kafka's own default); -1 keeps events forever"),
  ),
  logLevel: setting(
    'LOG_LEVEL',
    z
      .enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` })
      .default('info')
      .describe(LOG_LEVELS.join(', ')),
  ),
  // 0 picks a free port (logged at start), which keeps tests and several local daemons apart.
  metricsPort: setting(
    'METRICS_PORT',
    integerSchema(0, 65_535).default(9464).describe('Port of /metrics, /healthz and /readyz; 0 picks a free one'),
  ),
  summaryIntervalMs: setting(
    'LOG_SUMMARY_INTERVAL_MS',
    integerSchema(100, 3_600_000).default(5_000).describe('Milliseconds between summary log lines'),
  ),
};
