/**
 * How the daemons authenticate to Kafka and protect the connection: TLS (with an optional CA of its
 * own) and SASL (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512), from the environment, for both Kafka clients.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { booleanSchema } from './config.js';

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

export const kafkaSecurityEnvShape = {
  KAFKA_SSL: booleanSchema.default(false).describe('Connect to Kafka over TLS'),
  KAFKA_SSL_CA_FILE: pemFileSchema
    .optional()
    .describe("PEM file of the CA that signed the brokers' certificates (implies KAFKA_SSL)"),
  KAFKA_SASL_MECHANISM: z
    .enum(SASL_MECHANISMS, { error: `must be one of ${SASL_MECHANISMS.join(', ')}` })
    .optional()
    .describe(`SASL authentication to Kafka: ${SASL_MECHANISMS.join(', ')}; unset = none`),
  KAFKA_SASL_USERNAME: z.string().optional().describe('SASL user name'),
  KAFKA_SASL_PASSWORD: z.string().optional().describe('SASL password (or KAFKA_SASL_PASSWORD_FILE)'),
};

type SecurityEnv = z.output<z.ZodObject<typeof kafkaSecurityEnvShape>>;

/** For a daemon schema's `superRefine`: SASL needs all three of its variables, and only with each other. */
export function checkKafkaSecurity(env: SecurityEnv, context: z.RefinementCtx): void {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  if (mechanism !== undefined) {
    if (username === undefined)
      context.addIssue({ code: 'custom', path: ['KAFKA_SASL_USERNAME'], message: `is needed with KAFKA_SASL_MECHANISM` });
    if (password === undefined)
      context.addIssue({ code: 'custom', path: ['KAFKA_SASL_PASSWORD'], message: `is needed with KAFKA_SASL_MECHANISM` });
  } else if (username !== undefined || password !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['KAFKA_SASL_MECHANISM'],
      message: 'is needed with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    });
  }
}

export function kafkaSecurityFrom(env: SecurityEnv): KafkaSecurity {
  const tls =
    env.KAFKA_SSL || env.KAFKA_SSL_CA_FILE !== undefined ? (env.KAFKA_SSL_CA_FILE ? { ca: env.KAFKA_SSL_CA_FILE } : {}) : false;
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
  return mechanism && username !== undefined && password !== undefined
    ? { tls, sasl: { mechanism, username, password } }
    : { tls };
}
