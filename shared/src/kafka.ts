/**
 * The Kafka edge both daemons share: a client whose logs go through pino, start-up that waits for the
 * broker instead of crashing, error classification, and a topic with enough partitions to scale out.
 */
import { type Admin, Kafka, type LogEntry, logLevel, type SASLOptions } from 'kafkajs';
import { FatalError } from './errors.js';
import { kafkaConfigurationProblem } from './kafka-listener.js';
import type { KafkaSecurity } from './kafka-security.js';
import type { Logger } from './logger.js';
import { logRetries, withRetry } from './retry.js';
import { TLS_VERIFICATION_CODES } from './wire-probe.js';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  security?: KafkaSecurity;
}

export function createKafka({ brokers, clientId, logger, security = { tls: false } }: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId,
    brokers,
    ssl: security.tls === false ? false : security.tls.ca ? { ca: [security.tls.ca] } : true,
    // kafkajs types each mechanism's options apart; ours are the same three fields for all three.
    ...(security.sasl ? { sasl: { ...security.sasl } as SASLOptions } : {}),
    logLevel: logLevel.WARN,
    logCreator: () => forwardToPino(logger.child({ component: 'kafkajs' })),
  });
}

// kafkajs' lines for each failed connection attempt; our retry loops log one line per backoff step.
const CONNECTION_ATTEMPT_MESSAGES = /^(Connection error|Connection timeout|Failed to connect to seed broker)/;

function forwardToPino(logger: Logger) {
  return ({ level, log }: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
    // kafkajs reports every failed connection attempt as an error; our own retry loops say what
    // they wait for, so its messages are warnings at most, and its per-attempt ones debug lines.
    if (CONNECTION_ATTEMPT_MESSAGES.test(message)) logger.debug(fields, message);
    else if (level <= logLevel.WARN) logger.warn(fields, message);
    else if (level === logLevel.INFO) logger.info(fields, message);
    else logger.debug(fields, message);
  };
}

const FATAL_KAFKA_ERRORS = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_REPLICATION_FACTOR',
  'POLICY_VIOLATION',
]);

/** A message to produce, in kafkajs' shape (which the consumer's dead letters already have). */
export interface KafkaMessageOut {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

interface PlatformaticError extends Error {
  code: string;
  apiId?: string;
  canRetry?: boolean;
  hasStaleMetadata?: boolean;
  errors?: unknown[];
}

function isPlatformaticError(error: unknown): error is PlatformaticError {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('PLT_KFK_');
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
function untrustedCertificate(error: unknown): string | undefined {
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

/**
 * Runs `connect` until the broker answers, logging what it waits for; fatal errors stop at once. Before
 * the first attempt and each retry it asks the brokers whether they speak what `security` says (SASL or
 * not, TLS or not, Kafka at all): a mismatch stops the daemon with one line saying what to set, where the
 * clients would otherwise retry forever.
 */
export async function connectWithRetry(
  connect: () => Promise<void>,
  { brokers, logger, signal, security }: { brokers: string[]; logger: Logger; signal: AbortSignal; security: KafkaSecurity },
): Promise<void> {
  const checkListeners = async () => {
    const problem = await kafkaConfigurationProblem(brokers, security);
    if (problem) throw new FatalError(problem);
  };
  const logRetry = logRetries(logger, 'waiting for Kafka', { brokers });
  await checkListeners();
  try {
    await withRetry(connect, {
      isRetryable: isTransientKafkaError,
      signal,
      onRetry: async (error, attempt, delayMs) => {
        await checkListeners();
        logRetry(error, attempt, delayMs);
      },
    });
  } catch (error) {
    if (error instanceof Error && !isTransientKafkaError(error) && isKafkaClientError(error)) {
      const hint = untrustedCertificate(error)
        ? " (the brokers' TLS certificate is not trusted: set KAFKA_SSL_CA_FILE to the CA that signed it)"
        : '';
      throw new FatalError(`Kafka refused the connection: ${error.message}${hint}`, { cause: error });
    }
    throw error;
  }
}

/**
 * Each partition's first offset kept (`low`) and next to be written (`high`). Right after a topic is
 * created, or while a partition changes leader, the broker may answer "not the leader" for a moment;
 * that is waited out rather than thrown.
 */
export async function topicEnds(
  admin: Admin,
  topic: string,
  { logger, signal }: { logger?: Logger; signal?: AbortSignal } = {},
): ReturnType<Admin['fetchTopicOffsets']> {
  return withRetry(() => admin.fetchTopicOffsets(topic), {
    isRetryable: isTransientKafkaError,
    maxElapsedMs: 60_000,
    signal,
    onRetry: logger ? logRetries(logger, 'topic offsets not available yet', { topic }) : undefined,
  });
}

export interface TopicSpec {
  topic: string;
  partitions: number;
}

/**
 * Creates the topic with the wanted partition count if it does not exist. An existing topic is left as
 * it is: adding partitions would move users to other partitions and break the per-user order.
 */
export async function ensureTopic(admin: Admin, spec: TopicSpec, logger: Logger, maxWaitMs = 60_000): Promise<void> {
  // Replicas starting together race to create the topic; the losers may ask a broker that has not
  // heard of it yet. And a cluster whose brokers are still registering (compose's three-node profile)
  // refuses a replication factor it will soon have. Both pass within moments.
  const tooFewBrokers = (error: Error) => kafkaErrorTypes(error).includes('INVALID_REPLICATION_FACTOR');
  try {
    await withRetry(() => createOrCheckTopic(admin, spec, logger), {
      isRetryable: (error) => isTransientKafkaError(error) || tooFewBrokers(error),
      maxElapsedMs: maxWaitMs,
      onRetry: logRetries(logger, 'topic not ready yet', { topic: spec.topic }),
    });
  } catch (error) {
    if (error instanceof Error && tooFewBrokers(error)) {
      throw new FatalError(
        `cannot create topic ${spec.topic}: fewer brokers are up than the cluster's default.replication.factor, still after ${maxWaitMs / 1000} s; start the missing brokers`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function createOrCheckTopic(admin: Admin, { topic, partitions }: TopicSpec, logger: Logger): Promise<void> {
  // Asking first: kafkajs logs a warning whenever it is asked to create a topic that exists, which
  // would put a warning into every start of every daemon.
  const exists = (await admin.listTopics()).includes(topic);
  const created =
    !exists &&
    (await admin.createTopics({
      topics: [{ topic, numPartitions: partitions }],
      waitForLeaders: true,
    }));
  if (created) {
    logger.info({ topic, partitions }, 'created topic');
    return;
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const existing = metadata.topics[0]?.partitions.length ?? 0;
  if (existing < partitions) {
    logger.warn(
      { topic, partitions: existing, wanted: partitions },
      'topic has fewer partitions than KAFKA_TOPIC_PARTITIONS; at most that many consumers will share the load',
    );
  } else {
    logger.info({ topic, partitions: existing }, 'topic exists');
  }
}
