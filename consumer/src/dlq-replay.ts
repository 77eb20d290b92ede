/**
 * Sends the dead letters back through the pipeline after a fix (a schema change, a repaired producer):
 * every message in the dead-letter topic that this replay group has not replayed yet is produced again
 * to the topic it came from, with its original key, bytes and origin headers, then the replay stops.
 * Messages that still cannot be stored simply become dead letters again; a message without `EventId`
 * keeps the id derived from its original position, so replaying twice never stores it twice.
 */
import {
  connectWithRetry,
  createKafka,
  createReliableProducer,
  kafkaVerdict,
  LOG_EVENT,
  type Logger,
  logRetries,
  type ReliableProducer,
  type Service,
  type ServiceContext,
  startService,
  topicEnds,
  withRetry,
} from '@user-actions/shared';
import type { Admin, Consumer, IHeaders, KafkaMessage } from 'kafkajs';
import type { ConsumerConfig } from './config.js';
import { DLQ_HEADERS } from './decoding/message-origin.js';
import { disconnectWithin } from './loading/client-calls.js';

const REPLAYED_AT_HEADER = 'dlq.replayed-at';

function replayGroupId(config: ConsumerConfig): string {
  return `${config.groupId}.dlq-replay`;
}

/** The message to produce again: the original key and bytes, and only the headers that say where it came from. */
export function toReplayedMessage(message: KafkaMessage, now: Date = new Date()) {
  const headers: IHeaders = { ...message.headers };
  delete headers[DLQ_HEADERS.error];
  delete headers[DLQ_HEADERS.stage];
  delete headers[DLQ_HEADERS.time];
  headers[REPLAYED_AT_HEADER] = now.toISOString();
  return { key: message.key, value: message.value, headers };
}

// kafkajs' disconnect waits for the requests in flight (on a silent broker, up to the request timeout):
// nothing is lost by not waiting, the group's committed offsets say what was replayed.
const DISCONNECT_MS = 3_000;

/** The replay as one service: replays what its group has not replayed yet, says how many, and ends. */
export function startReplay(config: ConsumerConfig, logger: Logger): Service {
  return startService(logger, async (context) => {
    const replayed = await replayDeadLetters(config, logger, context);
    logger.info(
      { event: LOG_EVENT.deadLettersReplayed, replayed, from: config.deadLetterTopic },
      replayed === 0 ? 'no dead letters to replay' : 'replayed dead letters',
    );
  });
}

/** Each client registers its release on the service's stack as it connects. */
async function replayDeadLetters(config: ConsumerConfig, logger: Logger, { signal, onStop }: ServiceContext): Promise<number> {
  const connection = { ...config, clientId: `${config.clientId}-dlq-replay` };
  const kafka = createKafka(connection, logger);
  const groupId = replayGroupId(config);
  const admin = kafka.admin();
  await connectWithRetry(() => admin.connect(), config, logger, signal);
  onStop('disconnect the admin client', () => disconnectWithin(admin, DISCONNECT_MS, logger, 'the admin client'));
  const pending = await partitionsToReplay(admin, config.deadLetterTopic, groupId, logger, signal);
  if (pending.size === 0) return 0;

  const producer = createReliableProducer(connection, logger);
  await connectWithRetry(() => producer.connect(), config, logger, signal);
  onStop('disconnect the producer', () => producer.disconnect());
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  onStop('leave the replay group', () => disconnectWithin(consumer, DISCONNECT_MS, logger, 'the replay group'));
  await connectWithRetry(() => consumer.connect(), config, logger, signal);
  await withRetry(() => consumer.subscribe({ topics: [config.deadLetterTopic], fromBeginning: true }), {
    verdictOf: kafkaVerdict,
    signal,
    onRetry: logRetries(logger, 'cannot subscribe yet', { topic: config.deadLetterTopic }),
  });
  return replayPending(consumer, producer, pending, config, logger, signal);
}

/** Produces every pending dead letter again, committing the replay group's offsets as it goes. */
function replayPending(
  consumer: Consumer,
  producer: ReliableProducer,
  pending: Map<number, bigint>,
  config: ConsumerConfig,
  logger: Logger,
  signal: AbortSignal,
): Promise<number> {
  let replayed = 0;
  return new Promise<number>((resolve, reject) => {
    signal.addEventListener('abort', () => resolve(replayed), { once: true });
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          const end = pending.get(batch.partition);
          if (end === undefined) return;
          const messages = batch.messages.filter((message) => BigInt(message.offset) < end);
          for (const [topic, group] of groupBySourceTopic(messages, config.topic)) {
            await producer.send(
              topic,
              group.map((message) => toReplayedMessage(message)),
              signal,
            );
          }
          replayed += messages.length;
          const last = messages.at(-1);
          if (last) {
            resolveOffset(last.offset);
            const next = BigInt(last.offset) + 1n;
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next.toString() }]);
            if (next >= end) pending.delete(batch.partition);
          }
          logger.info({ replayed, partitionsLeft: pending.size }, 'replaying dead letters');
          if (pending.size === 0) resolve(replayed);
        },
      })
      .catch(reject);
  });
}

/** Per partition of the dead-letter topic, the end offset to replay up to, where the group is behind it. */
async function partitionsToReplay(
  admin: Admin,
  topic: string,
  groupId: string,
  logger: Logger,
  signal: AbortSignal,
): Promise<Map<number, bigint>> {
  const ends = await topicEnds(admin, topic, { logger, signal });
  const [committed] = await withRetry(() => admin.fetchOffsets({ groupId, topics: [topic] }), {
    verdictOf: kafkaVerdict,
    signal,
    onRetry: logRetries(logger, "cannot read the replay group's offsets yet", { topic }),
  });
  const position = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  const pending = new Map<number, bigint>();
  for (const end of ends) {
    const committedAt = position.get(end.partition) ?? -1n; // -1: the group has committed nothing yet
    const from = committedAt >= 0n ? committedAt : BigInt(end.low);
    if (from < BigInt(end.high)) pending.set(end.partition, BigInt(end.high));
  }
  return pending;
}

function groupBySourceTopic(messages: KafkaMessage[], fallbackTopic: string): Map<string, KafkaMessage[]> {
  const groups = new Map<string, KafkaMessage[]>();
  for (const message of messages) {
    const source = message.headers?.[DLQ_HEADERS.sourceTopic]?.toString() || fallbackTopic;
    const group = groups.get(source);
    if (group) group.push(message);
    else groups.set(source, [message]);
  }
  return groups;
}
