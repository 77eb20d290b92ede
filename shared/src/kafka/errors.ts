/**
 * The failures of either Kafka client and their verdicts, in one table: which are worth waiting out
 * (the broker away, restarting, electing a leader) and which need a person (credentials, permissions,
 * a request the cluster will never accept), each with what an operator reads.
 */
import { GenericError } from '@platformatic/kafka';
import { FATAL_CODES, type FatalCode, fatalVerdict, transientVerdict, type Verdict } from '../errors.js';
import { TLS_VERIFICATION_CODES } from '../wire-probe.js';

const transient = transientVerdict;
const refused = (explanation: string, code: FatalCode = FATAL_CODES.kafkaRefused) => fatalVerdict(explanation, code);

const UNAVAILABLE = transient('Kafka unavailable');
const REFUSED = refused('Kafka refused the request');
const CREDENTIALS = refused('Kafka refused the credentials in KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
// @platformatic/kafka cannot read some Produce responses that carry an error while a partition leader
// moves (found by fault scenarios 3 and 9). Whether the broker wrote the batch is then unknown, so the
// send is repeated: the idempotent producer or the consumer's event ids make a second copy harmless.
const UNREADABLE_RESPONSE = transient('a Produce response could not be read while a leader moved');
const UNTRUSTED = refused(
  "Kafka refused the connection: the brokers' TLS certificate is not trusted; set KAFKA_SSL_CA_FILE to the CA that signed it",
  FATAL_CODES.misconfigured,
);

/** The broker rejected the producer's sequence for good: a new producer id is taken (reliable-producer.ts). */
export const PRODUCER_ID_REJECTED: readonly string[] = [
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
];

/**
 * By the Kafka protocol's error name (kafkajs' `type`, @platformatic/kafka's `apiId`), a client's error
 * code or kafkajs' error class. A fatal name anywhere in an error decides; protocol errors not named
 * here are retryable when the client says so.
 */
const BY_NAME: Record<string, Verdict> = {
  SASL_AUTHENTICATION_FAILED: CREDENTIALS,
  KafkaJSSASLAuthenticationError: CREDENTIALS,
  PLT_KFK_AUTHENTICATION: CREDENTIALS,
  TOPIC_AUTHORIZATION_FAILED: refused("Kafka's ACLs do not let this user use the topic"),
  GROUP_AUTHORIZATION_FAILED: refused("Kafka's ACLs do not let this user use the consumer group"),
  CLUSTER_AUTHORIZATION_FAILED: refused("Kafka's ACLs do not let this user act on the cluster"),
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: refused("Kafka's ACLs do not let this user use an idempotent producer"),
  POLICY_VIOLATION: refused("the cluster's policy refuses the topic as asked", FATAL_CODES.kafkaTopic),
  // A cluster whose brokers are still registering (compose's three-node profile) refuses a replication
  // factor it will soon have: waited out, up to the topic's own bound.
  INVALID_REPLICATION_FACTOR: transient(
    "fewer brokers are up than the cluster's default.replication.factor; start the missing brokers",
    FATAL_CODES.kafkaTopic,
  ),
  ...Object.fromEntries(PRODUCER_ID_REJECTED.map((name) => [name, transient('the broker rejected the producer id')])),
  OUT_OF_BOUNDS: UNREADABLE_RESPONSE,
  PLT_KFK_OUT_OF_BOUNDS: UNREADABLE_RESPONSE,
  PLT_KFK_NETWORK: UNAVAILABLE,
  PLT_KFK_TIMEOUT: transient('Kafka did not answer in time'),
};

interface PlatformaticError extends Error {
  code: string;
  apiId?: string;
  canRetry?: boolean;
  hasStaleMetadata?: boolean;
  errors?: unknown[];
}

function isPlatformaticError(error: unknown): error is PlatformaticError {
  return error instanceof Error && GenericError.isGenericError(error);
}

/**
 * Kafka's table (`VerdictOf`): a failure of either Kafka client, or undefined for one that is not Kafka's.
 * An untrusted certificate or a fatal name anywhere inside decides; then the names above; then the
 * client's own word (a protocol error it can retry, a batch of errors all retryable); any other kafkajs
 * error is retryable (kafkajs gives up on a broker away for a while, which comes back).
 */
export function kafkaVerdict(error: Error): Verdict | undefined {
  const names = kafkaErrorNames(error);
  if (names.some((name) => TLS_VERIFICATION_CODES.has(name))) return UNTRUSTED;
  const known = names.flatMap((name) => BY_NAME[name] ?? []);
  const decided = known.find((verdict) => !verdict.retryable) ?? (isPlatformaticError(error) ? undefined : known[0]);
  if (decided) return decided;
  if (isPlatformaticError(error)) return platformaticVerdict(error);
  return names.some((name) => name.startsWith('KafkaJS')) ? UNAVAILABLE : undefined;
}

/** @platformatic/kafka's errors: network trouble and leader moves pass, refusals do not. */
function platformaticVerdict(error: PlatformaticError): Verdict {
  const named = BY_NAME[error.code] ?? BY_NAME[error.apiId ?? ''];
  if (named) return named;
  switch (error.code) {
    case 'PLT_KFK_PROTOCOL':
      return error.canRetry === true || error.hasStaleMetadata === true ? UNAVAILABLE : REFUSED;
    case 'PLT_KFK_MULTIPLE':
    case 'PLT_KFK_RESPONSE': {
      const inner = (error.errors ?? []).flatMap((nested) => (nested instanceof Error ? [kafkaVerdict(nested) ?? REFUSED] : []));
      return inner.find((verdict) => !verdict.retryable) ?? inner[0] ?? REFUSED;
    }
    default:
      return REFUSED;
  }
}

/** Every name in an error, its causes and the errors it gathers: class, code, protocol error. */
export function kafkaErrorNames(error: unknown): string[] {
  if (!(error instanceof Error)) return [];
  const { code, type, apiId } = error as { code?: unknown; type?: unknown; apiId?: unknown };
  const own = [error.name, code, type, apiId].filter((name): name is string => typeof name === 'string');
  const inner = [error.cause, ...((error as { errors?: unknown[] }).errors ?? [])];
  return [...own, ...inner.flatMap((nested) => kafkaErrorNames(nested))];
}
