/**
 * What every daemon does first, in this order: answer `--help`, read `.env`, load and validate its
 * settings (or stop with one message naming every bad variable), and make its logger.
 */
import {
  commonSettings,
  type Env,
  envSchemaOf,
  kafkaNameSchema,
  loadDotenv,
  parseSettings,
  type Settings,
  type SettingValues,
  setting,
} from './config.js';
import { exitWithHelpIfAsked, loadConfigOrExit } from './daemon.js';
import { formatHelp } from './help.js';
import { type KafkaSecurity, kafkaSecurityFrom, kafkaSecurityProblems, kafkaSecuritySettings } from './kafka/security.js';
import { createLogger, type Logger } from './logger.js';

/** A daemon's settings: the shared ones, its Kafka client id, Kafka's TLS and SASL, and its own. */
export function daemonSettings<Own extends Settings>(defaultClientId: string, own: Own) {
  const clientId = setting('KAFKA_CLIENT_ID', kafkaNameSchema.default(defaultClientId).describe('Client id shown by the broker'));
  return { ...commonSettings, clientId, ...kafkaSecuritySettings, ...own };
}

type SecuritySetting = keyof typeof kafkaSecuritySettings;

export type DaemonConfig<S extends Settings> = Omit<SettingValues<S>, SecuritySetting> & { kafkaSecurity: KafkaSecurity };

/** Parses a daemon's settings; Kafka's five security variables become one `kafkaSecurity`. */
export function parseDaemonSettings<S extends Settings & typeof kafkaSecuritySettings>(settings: S, env: Env): DaemonConfig<S> {
  const values = parseSettings(settings, env, kafkaSecurityProblems);
  const {
    kafkaSsl: _ssl,
    kafkaSslCa: _ca,
    saslMechanism: _mechanism,
    saslUsername: _user,
    saslPassword: _password,
    ...rest
  } = values;
  return { ...rest, kafkaSecurity: kafkaSecurityFrom(values) };
}

export interface DaemonIdentity {
  /** The command's name, in `--help` and every log line. */
  name: string;
  /** One sentence for `--help`. */
  summary: string;
  settings: Settings;
  /** Command-line options for `--help`, with what each does. */
  options?: Record<string, string>;
}

export function startDaemonProcess<Config extends { logLevel: SettingValues<typeof commonSettings>['logLevel'] }>(
  { name, summary, settings, options }: DaemonIdentity,
  load: (env: Env) => Config,
): { config: Config; logger: Logger } {
  exitWithHelpIfAsked(formatHelp(name, summary, envSchemaOf(settings).shape, options));
  loadDotenv();
  const config = loadConfigOrExit(name, load);
  return { config, logger: createLogger({ name, level: config.logLevel }) };
}
