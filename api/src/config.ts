/** The API's settings, each defined once: its variable, its schema and the name the code uses. */
import { commonSettings, type Env, integerSchema, parseSettings, type SettingValues, setting } from '@user-actions/shared/config';
import { parseDatabaseHosts, type SessionAttrsPolicy } from '@user-actions/shared/postgres/database-hosts';
import { type TableName, tableSettings } from '@user-actions/shared/postgres/table-name';
import { z } from 'zod';

/** The API only reads: a standby serves as well as the primary, and spares it. */
export const READER_SESSIONS: SessionAttrsPolicy = {
  accepted: ['any', 'prefer-standby', 'standby', 'read-only', 'primary', 'read-write'],
  why: "libpq's values",
};

/** The token .env.example and docker-compose.yml give, so that the quick start reads with one command. */
export const EXAMPLE_TOKEN = 'example-token-change-me';

/** At least 16 characters: a token is a password, and a short one is guessed. */
const TOKEN = /^[\x21-\x7e]{16,}$/;

const tokensSchema = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((token) => token.trim())
      .filter((token) => token.length > 0),
  )
  .pipe(
    z
      .array(z.string().regex(TOKEN, 'each token must be at least 16 printable characters, without spaces or commas'))
      .min(1, 'must list at least one token'),
  );

export const apiSettings = {
  logLevel: commonSettings.logLevel,
  summaryIntervalMs: commonSettings.summaryIntervalMs,
  port: setting(
    'API_PORT',
    integerSchema(0, 65_535)
      .default(5005)
      .describe('Port of the API, its page, /metrics, /healthz and /readyz; 0 picks a free one'),
  ),
  host: setting('API_HOST', z.string().min(1).default('0.0.0.0').describe('Address the API listens on')),
  tokens: setting(
    'API_TOKENS',
    tokensSchema.describe('Bearer tokens that may read events, comma-separated (several, so that one can be rotated); required'),
  ),
  databaseUrl: setting(
    'DATABASE_URL',
    z
      .string()
      .superRefine((value, context) => {
        const hosts = parseDatabaseHosts(value, READER_SESSIONS);
        if (typeof hosts === 'string') context.addIssue({ code: 'custom', message: hosts });
      })
      .default('postgres://myuser:mypassword@localhost:5432/MyDb')
      .describe(
        'PostgreSQL connection URL; several hosts as host1:5432,host2:5432 with ?target_session_attrs=prefer-standby reads from a replica',
      ),
  ),
  ...tableSettings,
  poolSize: setting('API_POOL_SIZE', integerSchema(1, 100).default(4).describe('PostgreSQL connections the API may hold')),
  queryTimeoutMs: setting(
    'API_QUERY_TIMEOUT_MS',
    integerSchema(100, 600_000)
      .default(5_000)
      .describe(
        "PostgreSQL's statement_timeout for a page and a count (past it, 503); a stream silent this long plus 5 s is cut",
      ),
  ),
  exportTimeoutMs: setting(
    'API_EXPORT_TIMEOUT_MS',
    integerSchema(1_000, 86_400_000).default(600_000).describe('How long one stream may run: a range without limit, an export'),
  ),
  connectTimeoutMs: setting(
    'DATABASE_CONNECT_TIMEOUT_MS',
    integerSchema(500, 600_000).default(5_000).describe('How long opening a PostgreSQL connection may take, per host'),
  ),
  rateLimit: setting(
    'API_RATE_LIMIT',
    integerSchema(0, 1_000_000)
      .default(600)
      .describe('Requests a client (by token, else by address) may make per minute; 0 = no limit'),
  ),
  liveIntervalMs: setting(
    'API_LIVE_INTERVAL_MS',
    integerSchema(200, 60_000).default(1_000).describe("The live page's tick: one query per tick, however many pages are open"),
  ),
};

export type ApiConfig = SettingValues<typeof apiSettings> & { table: TableName };

export function loadApiConfig(env: Env): ApiConfig {
  const values = parseSettings(apiSettings, env);
  const table: TableName = { name: values.tableName, ...(values.tableSchema && { schema: values.tableSchema }) };
  return { ...values, table };
}
