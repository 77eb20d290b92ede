import { describe, expect, it } from 'vitest';
import { groupByPartition, needsNewProducerId } from '../src/producer.js';

const protocolError = (type: string) => Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });

describe('recognising a producer that needs a new producer id', () => {
  it.each(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'])('%s does', (type) => {
    expect(needsNewProducerId(protocolError(type))).toBe(true);
  });

  it('also when kafkajs wraps it after its own retries', () => {
    const wrapped = new Error('retries exhausted', { cause: protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER') });
    expect(needsNewProducerId(wrapped)).toBe(true);
  });

  it.each(['NOT_LEADER_FOR_PARTITION', 'REQUEST_TIMED_OUT'])('%s does not', (type) => {
    expect(needsNewProducerId(protocolError(type))).toBe(false);
  });
});

describe('assigning partitions the way Kafka does', () => {
  it('puts each key on the partition the Java client picks for it', () => {
    // Computed with Kafka 3.9.1's own Utils.murmur2 for 6 partitions.
    const javaPartitions = { 'user-a': 1, 'user-b': 4, 'user-c': 2, '550e8400-e29b-41d4-a716-446655440000': 5 };
    const messages = Object.keys(javaPartitions).flatMap((key) => [
      { key, value: '1' },
      { key, value: '2' },
    ]);
    const groups = groupByPartition(messages, 6);
    for (const [key, partition] of Object.entries(javaPartitions)) {
      expect(groups.get(partition)?.filter((message) => message.key === key)).toHaveLength(2);
    }
  });

  it('keeps the order of messages within a partition', () => {
    const messages = Array.from({ length: 20 }, (_, index) => ({ key: 'same-user', value: String(index) }));
    const [group] = groupByPartition(messages, 6).values();
    expect(group?.map((message) => message.value)).toEqual(messages.map((message) => message.value));
  });
});
