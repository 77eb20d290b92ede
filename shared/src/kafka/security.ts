/**
 * How the daemons authenticate to Kafka and protect the connection: TLS (with an optional CA of its
 * own) and SASL (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), from the environment, for both Kafka clients.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { booleanSchema, type SettingValues, setting } from '../config.js';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSecurity {
  /** false: plaintext. An object: TLS, trusting `ca` (PEM) or else the system's certificate authorities. */
  tls: false | { ca?: string };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

const pemFileSchema = z.string().transform((path, context) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    context.addIssue({ code: 'custom', message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
    return z.NEVER;
  }
});

export const kafkaSecuritySettings = {
  kafkaSsl: setting('KAFKA_SSL', booleanSchema.default(false).describe('Connect to Kafka over TLS')),
  kafkaSslCa: setting(
    'KAFKA_SSL_CA_FILE',
    pemFileSchema.optional().describe("PEM file of the CA that signed the brokers' certificates (implies KAFKA_SSL)"),
  ),
  saslMechanism: setting(
    'KAFKA_SASL_MECHANISM',
    z
      .enum(SASL_MECHANISMS, { error: `must be one of ${SASL_MECHANISMS.join(', ')}` })
      .optional()
      .describe(`SASL authentication to Kafka: ${SASL_MECHANISMS.join(', ')}; unset = none`),
  ),
  saslUsername: setting('KAFKA_SASL_USERNAME', z.string().optional().describe('SASL user name')),
  saslPassword: setting('KAFKA_SASL_PASSWORD', z.string().optional().describe('SASL password (or KAFKA_SASL_PASSWORD_FILE)')),
};

type SecurityValues = SettingValues<typeof kafkaSecuritySettings>;

/** SASL needs all three of its variables, and only with each other. */
export function kafkaSecurityProblems({ saslMechanism, saslUsername, saslPassword }: SecurityValues): string[] {
  if (saslMechanism !== undefined) {
    return [
      ...(saslUsername === undefined ? ['KAFKA_SASL_USERNAME: is needed with KAFKA_SASL_MECHANISM'] : []),
      ...(saslPassword === undefined ? ['KAFKA_SASL_PASSWORD: is needed with KAFKA_SASL_MECHANISM'] : []),
    ];
  }
  if (saslUsername !== undefined || saslPassword !== undefined) {
    return ['KAFKA_SASL_MECHANISM: is needed with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD'];
  }
  return [];
}

export function kafkaSecurityFrom(values: SecurityValues): KafkaSecurity {
  const { kafkaSsl, kafkaSslCa, saslMechanism: mechanism, saslUsername: username, saslPassword: password } = values;
  const tls = kafkaSsl || kafkaSslCa !== undefined ? (kafkaSslCa ? { ca: kafkaSslCa } : {}) : false;
  return mechanism && username !== undefined && password !== undefined
    ? { tls, sasl: { mechanism, username, password } }
    : { tls };
}
