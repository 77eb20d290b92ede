/** The producer's settings, each defined once: its variable, its schema and the name the code uses. */
import { parseArgs } from 'node:util';
import { ConfigError, daemonSettings, type Env, integerSchema, parseDaemonSettings, setting } from '@user-actions/shared';
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

const INTERVAL = 'must be a number of milliseconds from 0 to 3600000';

export const producerSettings = daemonSettings('user-actions-producer', {
  // Fractions allowed: 0.1 is 10,000 events per second.
  intervalMs: setting(
    'PRODUCER_INTERVAL_MS',
    z.coerce
      .number({ error: INTERVAL })
      .min(0, INTERVAL)
      .max(3_600_000, INTERVAL)
      .default(500)
      .describe('Milliseconds between two events (fractions allowed); 0 = as fast as acknowledged'),
  ),
  count: setting(
    'PRODUCER_COUNT',
    integerSchema(0, Number.MAX_SAFE_INTEGER).default(0).describe('Stop after this many events; 0 = never'),
  ),
  simUsers: setting(
    'SIM_USERS',
    integerSchema(0, 10_000_000)
      .default(1_000)
      .describe("Simulated users, in sessions; 0 = the original system's random events, a new user each"),
  ),
  simActionMix: setting(
    'SIM_ACTION_MIX',
    actionMixSchema
      .optional()
      .describe('What users do in a session, as Action=weight,… (e.g. Purchase=10,Logout=2); unnamed actions keep their weight'),
  ),
  /** Undefined: a new seed each run (logged). */
  simSeed: setting(
    'SIM_SEED',
    integerSchema(0, 2 ** 31 - 1)
      .optional()
      .describe('Seed of the simulation: the same seed gives the same events (default: a new one, logged)'),
  ),
  compression: setting(
    'KAFKA_COMPRESSION',
    z
      .enum(COMPRESSIONS, { error: `must be one of ${COMPRESSIONS.join(', ')}` })
      .default('none')
      .describe('Compression of the record batches sent to Kafka'),
  ),
});

// Events per second, turned into the interval between two events.
const rateSchema = z.coerce
  .number({ error: 'must be a number of events per second, 0 or more' })
  .min(0, 'must be a number of events per second, 0 or more')
  .transform((rate) => (rate === 0 ? 0 : 1000 / rate));

/** Command-line options for load tests: each overrides a setting and is checked by that setting's schema. */
const OPTIONS = {
  rate: {
    schema: rateSchema,
    overrides: 'intervalMs',
    help: 'Events per second (overrides PRODUCER_INTERVAL_MS); 0 = as fast as acknowledged',
  },
  count: { schema: producerSettings.count.schema, overrides: 'count', help: 'Stop after N events (overrides PRODUCER_COUNT)' },
  seed: { schema: producerSettings.simSeed.schema, overrides: 'simSeed', help: 'Seed of the simulation (overrides SIM_SEED)' },
} as const;

/** The options for `--help`. */
export const producerOptions = Object.fromEntries(Object.entries(OPTIONS).map(([name, { help }]) => [`--${name} N`, help]));

export type ProducerConfig = ReturnType<typeof configFromEnv>;

/** The settings from the environment, overridden by `--rate`, `--count` and `--seed`; every problem reported at once. */
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
  let values: Partial<Record<keyof typeof OPTIONS, string>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: 'string' as const }])),
      strict: true,
    }));
  } catch (error) {
    problems.push(`command line: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
  const options: Record<string, unknown> = {};
  for (const [name, { schema, overrides }] of Object.entries(OPTIONS)) {
    const text = values[name as keyof typeof OPTIONS];
    if (text === undefined) continue;
    const result = schema.safeParse(text.trim() === '' ? undefined : text);
    if (result.success && result.data !== undefined) options[overrides] = result.data;
    else problems.push(`--${name}: ${result.success ? 'needs a value' : result.error.issues[0]?.message}`);
  }
  return options as Partial<ProducerConfig>;
}

function configFromEnv(env: Env) {
  const values = parseDaemonSettings(producerSettings, env);
  return { ...values, simActionMix: values.simActionMix ?? {} };
}
