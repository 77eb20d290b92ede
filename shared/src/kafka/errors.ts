/**
 * Which failures of either Kafka client are worth waiting out (the broker away, restarting, electing a
 * leader) and which need a person (credentials, permissions, a request the cluster will never accept).
 */
import { GenericError } from '@platformatic/kafka';
import { TLS_VERIFICATION_CODES } from '../wire-probe.js';

const FATAL_KAFKA_ERRORS = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_REPLICATION_FACTOR',
  'POLICY_VIOLATION',
]);

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

/** The Kafka protocol error names (`NOT_LEADER_OR_FOLLOWER`, ...) anywhere inside a producer error. */
export function platformaticErrorIds(error: unknown): string[] {
  if (!isPlatformaticError(error)) return error instanceof Error && error.cause ? platformaticErrorIds(error.cause) : [];
  const inner = [...(error.errors ?? []), ...(error.cause ? [error.cause] : [])];
  return [...(error.apiId ? [error.apiId] : []), ...inner.flatMap((nested) => platformaticErrorIds(nested))];
}

/**
 * @platformatic/kafka 1.35 cannot read some Produce responses that carry an error while a partition
 * leader moves ("Out of bounds"; found by fault scenarios 3 and 9). Whether the broker wrote the batch
 * is then unknown, so the send is repeated: the idempotent producer or the consumer's event ids make a
 * second copy harmless.
 */
function isUnreadableResponse(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'OUT_OF_BOUNDS' || code === 'PLT_KFK_OUT_OF_BOUNDS';
}

/** The certificate verification failure anywhere inside a client error (its causes and inner errors). */
export function untrustedCertificate(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TLS_VERIFICATION_CODES.has(code)) return code;
  const inner = [error.cause, ...((error as { errors?: unknown[] }).errors ?? [])];
  for (const nested of inner) {
    const found = untrustedCertificate(nested);
    if (found) return found;
  }
  return undefined;
}

/** An error of either Kafka client, as opposed to one of PostgreSQL or of the code. */
export function isKafkaClientError(error: Error): boolean {
  return error.name.startsWith('KafkaJS') || isPlatformaticError(error) || isUnreadableResponse(error);
}

/** Producer errors (@platformatic/kafka): network trouble and leader moves pass, refusals do not. */
function isTransientProducerError(error: PlatformaticError): boolean {
  switch (error.code) {
    case 'PLT_KFK_NETWORK':
    case 'PLT_KFK_TIMEOUT':
      return true;
    case 'PLT_KFK_PROTOCOL':
      return !FATAL_KAFKA_ERRORS.has(error.apiId ?? '') && (error.canRetry === true || error.hasStaleMetadata === true);
    case 'PLT_KFK_MULTIPLE':
    case 'PLT_KFK_RESPONSE': {
      const inner = (error.errors ?? []).filter((nested): nested is Error => nested instanceof Error);
      return inner.length > 0 && inner.every((nested) => isTransientKafkaError(nested));
    }
    default:
      return false;
  }
}

/**
 * Transient: the broker is away, restarting or electing a leader. Fatal: credentials or permissions,
 * or a request the cluster will never accept. Errors that are not Kafka's are never retried here.
 */
export function isTransientKafkaError(error: Error): boolean {
  if (untrustedCertificate(error)) return false;
  if (isUnreadableResponse(error)) return true;
  if (isPlatformaticError(error)) return isTransientProducerError(error);
  let isKafkaError = false;
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current.name === 'KafkaJSSASLAuthenticationError') return false;
    if (current.name.startsWith('KafkaJS')) isKafkaError = true;
  }
  return isKafkaError && !kafkaErrorTypes(error).some((type) => FATAL_KAFKA_ERRORS.has(type));
}

/** The Kafka error names (`INVALID_REPLICATION_FACTOR`, ...) of a kafkajs error, its causes and the errors it gathers. */
export function kafkaErrorTypes(error: unknown): string[] {
  if (!(error instanceof Error)) return [];
  const type = (error as { type?: unknown }).type;
  const inner = [error.cause, ...((error as { errors?: unknown[] }).errors ?? [])];
  return [...(typeof type === 'string' ? [type] : []), ...inner.flatMap((nested) => kafkaErrorTypes(nested))];
}
