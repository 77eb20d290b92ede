/**
 * Where a message first entered the pipeline. A dead letter carries its origin in headers, so that an
 * event id derived from the origin stays the same however often the message is replayed.
 */

/** Kafka message headers, as kafkajs gives them (the decoding thread loads no Kafka client). */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export const DLQ_HEADERS = {
  error: 'dlq.error',
  /** `decode` (not JSON or not a user action) or `store` (PostgreSQL refused the row). */
  stage: 'dlq.stage',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  time: 'dlq.time',
} as const;

export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

function headerText(headers: MessageHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * Where a message first entered the pipeline: its own position, or for a replayed dead letter the
 * position recorded in its headers. Ids derived from it stay the same however often it is replayed.
 */
export function originOf(position: KafkaPosition, headers: MessageHeaders | undefined): KafkaPosition {
  const topic = headerText(headers, DLQ_HEADERS.sourceTopic);
  const partition = headerText(headers, DLQ_HEADERS.sourcePartition);
  const offset = headerText(headers, DLQ_HEADERS.sourceOffset);
  if (topic === undefined || partition === undefined || offset === undefined || !/^\d+$/.test(partition + offset)) {
    return position;
  }
  return { topic, partition: Number(partition), offset };
}
