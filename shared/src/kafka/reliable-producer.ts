/**
 * An idempotent Kafka producer (acks from every in-sync replica) that retries until the broker has
 * acknowledged every message, on @platformatic/kafka: about three times the events/s of kafkajs 2.2.4
 * on the same machine (docs/benchmarks.md), whose producer also had two defects that lost or wedged
 * messages when a partition leader moved; the fault-injection suite's cluster scenario pins that.
 *
 * - Partitions are Kafka's own (the Java client's murmur2), so a user's events share a partition with
 *   those of every other Kafka producer keyed the same way.
 * - Sends may overlap (the consumer's partitions dead-letter at once): @platformatic/kafka 2 numbers
 *   concurrent idempotent batches apart. 1.35 gave them one sequence and the broker dropped all but one
 *   while acknowledging each (10 of 200 messages written; 200 of 200 on 2.12), so sends were made one
 *   at a time until then; the integration test of concurrent sends holds this.
 * - A producer whose sequence numbers the broker rejects for good (OUT_OF_ORDER_SEQUENCE_NUMBER,
 *   UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH) is replaced by a new one (a new producer id) and the
 *   send repeated. A repeated send can write a message twice; the consumer's event ids absorb that.
 */
import { compatibilityPartitioner, type Partitioner, ProduceAcks, Producer } from '@platformatic/kafka';
import type { Logger } from '../logger.js';
import { logRetries, withRetry } from '../retry.js';
import type { KafkaConnection, KafkaMessageOut } from './client.js';
import { kafkaErrorNames, kafkaVerdict, PRODUCER_ID_REJECTED } from './errors.js';

const PLATFORMATIC_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

export function needsNewProducerId(error: unknown): boolean {
  return kafkaErrorNames(error).some((name) => PRODUCER_ID_REJECTED.includes(name));
}

/** The partition Kafka's default partitioner (Java's, too) gives a key; the producer's own choice. */
export function partitionFor(key: string, partitionCount: number): number {
  return murmur2Hash(Buffer.from(key)) % partitionCount;
}

function murmur2Hash(key: Buffer): number {
  return compatibilityPartitioner(undefined as never, key);
}

/**
 * Kafka's default partitioner reading the hash the key cache computed once per key; like every
 * partitioner of the client, it returns a hash that the client takes modulo the partition count.
 */
const keyHashPartitioner: Partitioner<Buffer, Buffer, Buffer, Buffer> = (message, key) =>
  (message as OutgoingRecord).keyHash ?? compatibilityPartitioner(message, key);

interface KeyBytes {
  bytes: Buffer;
  hash: number;
}

// Enough for a large simulated population; a stream of keys that never repeat just empties it now and then.
const KEY_CACHE_LIMIT = 100_000;

/**
 * A key's bytes and murmur2 hash, computed once per key rather than once per message: a simulated
 * population's users recur in every send, and hashing cost the producer a twelfth of its time.
 */
function createKeyCache(): (key: string) => KeyBytes {
  const cache = new Map<string, KeyBytes>();
  return (key) => {
    let known = cache.get(key);
    if (known === undefined) {
      if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
      const bytes = Buffer.from(key);
      known = { bytes, hash: murmur2Hash(bytes) };
      cache.set(key, known);
    }
    return known;
  };
}

export interface ReliableProducer {
  /** Resolves once the broker has given this producer its id; retries while it is unreachable. */
  connect(): Promise<void>;
  /**
   * Learns where the topic's partitions live, as the first send would otherwise do while its events
   * wait (about 20 ms). Best effort: if it fails, the first send asks again.
   */
  loadTopic(topic: string): Promise<void>;
  /** Resolves once every message is acknowledged; retries transient failures until `signal` aborts. */
  send(topic: string, messages: readonly KafkaMessageOut[], signal: AbortSignal): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ReliableProducerOptions {
  compression?: 'none' | 'gzip';
  onRetry?: (error: Error) => void;
}

type RawProducer = Producer<Buffer, Buffer, Buffer, Buffer>;

export function createReliableProducer(
  connection: KafkaConnection,
  logger: Logger,
  { compression = 'none', onRetry }: ReliableProducerOptions = {},
): ReliableProducer {
  const create = () => rawProducer(connection, compression);
  let producer = create();
  const keyBytes = createKeyCache();

  /** Replaces `failed` unless an overlapping send that failed the same way already did. */
  const replace = async (failed: RawProducer, reason: string) => {
    if (producer !== failed) return;
    logger.warn({ reason }, 'the broker rejected the producer sequence; continuing with a new producer id');
    producer = create();
    await failed.close().catch(() => undefined);
  };

  /** Leaves in `pending` what is still to be written when the send fails, so a retry repeats only that. */
  const sendPending = async (topic: string, pending: { records: OutgoingRecord[] }) => {
    const used = producer;
    try {
      await used.send({ messages: pending.records });
    } catch (error) {
      pending.records = await withoutWrittenPartitions(producer, error, topic, pending.records);
      if (needsNewProducerId(error)) await replace(used, (error as Error).message);
      throw error;
    }
  };

  const sendAll = async (topic: string, messages: readonly KafkaMessageOut[], signal: AbortSignal) => {
    if (messages.length === 0) return;
    const logSendRetry = logRetries(logger, 'send failed; retrying', { topic, messages: messages.length });
    const pending = { records: messages.map((message) => toRecord(topic, message, keyBytes)) };
    await withRetry(() => sendPending(topic, pending), {
      verdictOf: kafkaVerdict,
      signal,
      onRetry: (error, attempt, delayMs) => {
        onRetry?.(error);
        logSendRetry(error, attempt, delayMs);
      },
    });
  };

  return {
    async connect() {
      await producer.initIdempotentProducer({});
    },
    async loadTopic(topic) {
      await producer.metadata({ topics: [topic] }).catch(() => undefined);
    },
    send: sendAll,
    async disconnect() {
      await producer.close();
    },
  };
}

function rawProducer({ brokers, clientId, kafkaSecurity: security }: KafkaConnection, compression: 'none' | 'gzip'): RawProducer {
  return new Producer({
    clientId,
    bootstrapBrokers: brokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
    partitioner: keyHashPartitioner,
    ...(security.tls === false ? {} : { tls: security.tls.ca ? { ca: security.tls.ca } : {} }),
    ...(security.sasl ? { sasl: { ...security.sasl, mechanism: PLATFORMATIC_MECHANISMS[security.sasl.mechanism] } } : {}),
    ...(compression === 'gzip' ? { compression: 'gzip' as const } : {}),
    // Our own retry loop waits out long outages; the client's covers a leader election.
    retries: 3,
    retryDelay: 250,
  });
}

/** The records a failed send has still to write: those of the partitions it did not write. */
async function withoutWrittenPartitions(producer: RawProducer, error: unknown, topic: string, records: OutgoingRecord[]) {
  const written = writtenPartitions(error, topic);
  if (written.size === 0) return records;
  const partitionCount = await producer
    .metadata({ topics: [topic] })
    .then((metadata) => metadata.topics.get(topic)?.partitionsCount ?? 0)
    .catch(() => 0);
  if (partitionCount === 0) return records;
  return records.filter((record) => !record.key || !written.has((record.keyHash ?? murmur2Hash(record.key)) % partitionCount));
}

/**
 * The partitions of `topic` that a failed send still wrote: a send to several partition leaders can
 * succeed for some. Repeating only the rest keeps a broker failure from writing the others twice.
 */
export function writtenPartitions(error: unknown, topic: string): Set<number> {
  const offsets = (error as { produced?: { offsets?: { topic: string; partition: number }[] } } | null)?.produced?.offsets ?? [];
  return new Set(offsets.filter((offset) => offset.topic === topic).map((offset) => offset.partition));
}

interface OutgoingRecord {
  topic: string;
  key?: Buffer;
  /** The key's murmur2 hash, from the key cache; read by `keyHashPartitioner`. */
  keyHash?: number;
  value?: Buffer;
  headers?: Map<Buffer, Buffer>;
}

function toRecord(topic: string, { key, value, headers }: KafkaMessageOut, keyBytes: (key: string) => KeyBytes): OutgoingRecord {
  const record: OutgoingRecord = { topic };
  if (typeof key === 'string') {
    const { bytes, hash } = keyBytes(key);
    record.key = bytes;
    record.keyHash = hash;
  } else if (key !== undefined && key !== null) {
    record.key = key;
  }
  // Buffers are passed on as they are: the client only reads them.
  if (value !== null) record.value = typeof value === 'string' ? Buffer.from(value) : value;
  if (headers) {
    record.headers = new Map();
    for (const [name, headerValue] of Object.entries(headers)) {
      // Our headers are single-valued; of a repeated one (from another producer) the last counts.
      const single = Array.isArray(headerValue) ? headerValue.at(-1) : headerValue;
      if (single !== undefined) record.headers.set(Buffer.from(name), Buffer.from(single));
    }
  }
  return record;
}
