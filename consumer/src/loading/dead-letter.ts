/**
 * Dead letters: messages that can never be stored (not JSON, not a user action, or a value PostgreSQL
 * refuses) go to the dead-letter topic with their original key, bytes and headers, plus headers that
 * say why and where they came from. Nothing is dropped silently, and `npm run dlq:replay` can send them
 * back through the pipeline after a fix.
 */
import {
  type createReliableProducer,
  FATAL_CODES,
  FatalError,
  isAbortError,
  type KafkaMessageOut,
  toError,
} from '@user-actions/shared';
import type { KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS, originOf } from '../decoding/message-origin.js';

export const DEAD_LETTER_STAGES = ['decode', 'store'] as const;
export type DeadLetterStage = (typeof DEAD_LETTER_STAGES)[number];

export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  stage: DeadLetterStage;
  reason: string;
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

/**
 * The batch store's dead-letter port: sends a batch's dead letters, and stops the consumer when the
 * topic refuses one, since nothing may be dropped silently.
 */
export function deadLetterSender(producer: Pick<ReturnType<typeof createReliableProducer>, 'send'>, topic: string) {
  return async (deadLetters: DeadLetter[], abort: AbortSignal): Promise<void> => {
    const messages = deadLetters.map((deadLetter) => toDeadLetterMessage(deadLetter));
    try {
      await producer.send(topic, messages, abort);
    } catch (caught) {
      const error = toError(caught);
      if (isAbortError(error)) throw error;
      throw new FatalError(`the dead-letter topic refused a message: ${error.message}`, {
        code: FATAL_CODES.deadLetterRefused,
        cause: error,
      });
    }
  };
}
