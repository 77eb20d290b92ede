/**
 * Dead letters: messages that can never be stored (not JSON, not a user action, or a value PostgreSQL
 * refuses) go to the dead-letter topic with their original key, bytes and headers, plus headers that
 * say why and where they came from. Nothing is dropped silently, and `npm run dlq:replay` can send them
 * back through the pipeline after a fix.
 */
import type { KafkaMessageOut } from '@user-actions/shared';
import type { IHeaders, KafkaMessage } from 'kafkajs';

export const DLQ_HEADERS = {
  error: 'dlq.error',
  /** `decode` (not JSON or not a user action) or `store` (PostgreSQL refused the row). */
  stage: 'dlq.stage',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  time: 'dlq.time',
} as const;

export type DeadLetterStage = 'decode' | 'store';

export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  stage: DeadLetterStage;
  reason: string;
}

export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Where a message first entered the pipeline: its own position, or for a replayed dead letter the
 * position recorded in its headers. Ids derived from it stay the same however often it is replayed.
 */
export function originOf(position: KafkaPosition, headers: IHeaders | undefined): KafkaPosition {
  const topic = headerText(headers, DLQ_HEADERS.sourceTopic);
  const partition = headerText(headers, DLQ_HEADERS.sourcePartition);
  const offset = headerText(headers, DLQ_HEADERS.sourceOffset);
  if (topic === undefined || partition === undefined || offset === undefined || !/^\d+$/.test(partition + offset)) {
    return position;
  }
  return { topic, partition: Number(partition), offset };
}

export function toDeadLetterMessage(deadLetter: DeadLetter, now: Date = new Date()): KafkaMessageOut {
  const { message } = deadLetter;
  const origin = originOf({ topic: deadLetter.topic, partition: deadLetter.partition, offset: message.offset }, message.headers);
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      [DLQ_HEADERS.error]: deadLetter.reason,
      [DLQ_HEADERS.stage]: deadLetter.stage,
      [DLQ_HEADERS.sourceTopic]: origin.topic,
      [DLQ_HEADERS.sourcePartition]: String(origin.partition),
      [DLQ_HEADERS.sourceOffset]: origin.offset,
      [DLQ_HEADERS.time]: now.toISOString(),
    },
  };
}
