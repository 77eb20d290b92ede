import { parseArgs } from 'node:util';
import {
  ConfigError,
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
import { ALWAYS_POSSIBLE, DEFAULT_SESSION_MIX, type SessionAction } from './events/session-actions.js';

export const COMPRESSIONS = ['none', 'gzip'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

const SESSION_ACTIONS = Object.keys(DEFAULT_SESSION_MIX) as SessionAction[];

/** `Action=weight,…`: every name one of the session's actions, every weight a number from 0 up. */
const actionMixSchema = z.string().transform((text, context) => {
  const mix: Partial<Record<SessionAction, number>> = {};
  for (const entry of text.split(',').filter((part) => part.trim() !== '')) {
    const [name = '', weight = ''] = entry.split('=').map((part) => part.trim());
    const value = Number(weight);
    if (!SESSION_ACTIONS.includes(name as SessionAction)) {
      context.addIssue({ code: 'custom', message: `${name || entry} is not one of ${SESSION_ACTIONS.join(', ')}` });
    } else if (weight === '' || !Number.isFinite(value) || value < 0) {
      context.addIssue({ code: 'custom', message: `the weight of ${name} must be a number from 0 up` });
    } else mix[name as SessionAction] = value;
  }
  const weights: Record<string, number> = { ...DEFAULT_SESSION_MIX, ...mix };
  if (![...ALWAYS_POSSIBLE].some((action) => (weights[action] ?? 0) > 0)) {
    context.addIssue({ code: 'custom', message: `give a weight to one of ${[...ALWAYS_POSSIBLE].join(', ')}` });
  }
  return mix;
});

export const producerEnvSchema = z
  .object({
    ...commonEnvShape,
    ...kafkaSecurityEnvShape,
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
    SIM_USERS: integerSchema(0, 10_000_000)
      .default(1_000)
      .describe("Simulated users, in sessions; 0 = the original system's random events, a new user each"),
    SIM_ACTION_MIX: actionMixSchema
      .optional()
      .describe('What users do in a session, as Action=weight,… (e.g. Purchase=10,Logout=2); unnamed actions keep their weight'),
    SIM_SEED: integerSchema(0, 2 ** 31 - 1)
      .optional()
      .describe('Seed of the simulation: the same seed gives the same events (default: a new one, logged)'),
    KAFKA_COMPRESSION: z
      .enum(COMPRESSIONS, { error: `must be one of ${COMPRESSIONS.join(', ')}` })
      .default('none')
      .describe('Compression of the record batches sent to Kafka'),
  })
  .superRefine(checkKafkaSecurity);

/** Command-line options for load tests; each overrides its environment variable. */
export const producerOptions = {
  '--rate N': 'Events per second (overrides PRODUCER_INTERVAL_MS); 0 = as fast as acknowledged',
  '--count N': 'Stop after N events (overrides PRODUCER_COUNT)',
  '--seed N': 'Seed of the simulation (overrides SIM_SEED)',
} as const;

export interface ProducerConfig {
  brokers: string[];
  kafkaSecurity: KafkaSecurity;
  topic: string;
  topicPartitions: number;
  clientId: string;
  /** Time between two events; 0 sends as fast as the broker acknowledges. */
  intervalMs: number;
  /** Stop (and exit 0) after this many events; 0 runs until stopped. */
  count: number;
  simUsers: number;
  simActionMix: Partial<Record<SessionAction, number>>;
  /** Undefined: a new seed each run. */
  simSeed: number | undefined;
  logLevel: LogLevel;
  summaryIntervalMs: number;
  metricsPort: number;
  compression: Compression;
}

/** The settings from the environment, overridden by `--rate` and `--count`; every problem reported at once. */
export function loadProducerConfig(env: Env, argv: readonly string[] = []): ProducerConfig {
  const problems: string[] = [];
  const options = parseOptions(argv, problems);
  let fromEnv: ProducerConfig | undefined;
  try {
    fromEnv = configFromEnv(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (fromEnv === undefined || problems.length > 0) throw new ConfigError(problems);
  return { ...fromEnv, ...options };
}

function parseOptions(argv: readonly string[], problems: string[]): Partial<ProducerConfig> {
  let values: { rate?: string | undefined; count?: string | undefined; seed?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { rate: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    problems.push(`command line: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
  const options: Partial<ProducerConfig> = {};
  if (values.rate !== undefined) {
    const rate = Number(values.rate);
    if (values.rate.trim() === '' || !Number.isFinite(rate) || rate < 0)
      problems.push('--rate: must be a number of events per second, 0 or more');
    else options.intervalMs = rate === 0 ? 0 : 1000 / rate;
  }
  if (values.count !== undefined) {
    const count = Number(values.count);
    if (!/^\d+$/.test(values.count) || !Number.isSafeInteger(count))
      problems.push('--count: must be a whole number of events, 0 or more');
    else options.count = count;
  }
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!/^\d+$/.test(values.seed) || seed >= 2 ** 31) problems.push('--seed: must be a whole number from 0 to 2147483647');
    else options.simSeed = seed;
  }
  return options;
}

function configFromEnv(env: Env): ProducerConfig {
  const parsed = parseEnv(producerEnvSchema, env);
  return {
    brokers: parsed.KAFKA_BROKERS,
    kafkaSecurity: kafkaSecurityFrom(parsed),
    topic: parsed.KAFKA_TOPIC,
    topicPartitions: parsed.KAFKA_TOPIC_PARTITIONS,
    clientId: parsed.KAFKA_CLIENT_ID,
    intervalMs: parsed.PRODUCER_INTERVAL_MS,
    count: parsed.PRODUCER_COUNT,
    simUsers: parsed.SIM_USERS,
    simActionMix: parsed.SIM_ACTION_MIX ?? {},
    simSeed: parsed.SIM_SEED,
    logLevel: parsed.LOG_LEVEL,
    summaryIntervalMs: parsed.LOG_SUMMARY_INTERVAL_MS,
    metricsPort: parsed.METRICS_PORT,
    compression: parsed.KAFKA_COMPRESSION,
  };
}
