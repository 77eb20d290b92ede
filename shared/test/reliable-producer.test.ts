import { MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { needsNewProducerId, partitionFor, writtenPartitions } from '../src/kafka/reliable-producer.js';

const responseError = (...ids: string[]) =>
  new MultipleErrors(
    'Producing messages failed.',
    ids.map((id) => new ProtocolError(id)),
  );

describe('recognising a producer that needs a new producer id', () => {
  it.each(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH'])('%s does', (id) => {
    expect(needsNewProducerId(new ProtocolError(id))).toBe(true);
  });

  it('also inside the errors of a send to several brokers, after the client retried', () => {
    const nested = new MultipleErrors('Produce failed 4 times.', [
      responseError('NOT_LEADER_OR_FOLLOWER', 'OUT_OF_ORDER_SEQUENCE_NUMBER'),
    ]);
    expect(needsNewProducerId(nested)).toBe(true);
  });

  it.each(['NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT'])('%s does not', (id) => {
    expect(needsNewProducerId(responseError(id))).toBe(false);
  });
});

describe('assigning partitions the way Kafka does', () => {
  it('puts each key on the partition the Java client picks for it', () => {
    // Computed with Kafka 3.9.1's own Utils.murmur2 for 6 partitions.
    const javaPartitions = { 'user-a': 1, 'user-b': 4, 'user-c': 2, '550e8400-e29b-41d4-a716-446655440000': 5 };
    for (const [key, partition] of Object.entries(javaPartitions)) expect(partitionFor(key, 6)).toBe(partition);
  });
});

describe('a send that failed for some partitions only', () => {
  it('knows which partitions of the topic were written anyway, so that only the rest is sent again', () => {
    const error = Object.assign(new MultipleErrors('Producing messages failed.', [new NetworkError('Connection error')]), {
      produced: {
        offsets: [
          { topic: 'user-actions', partition: 0, offset: 41n },
          { topic: 'user-actions', partition: 3, offset: 7n },
          { topic: 'other', partition: 1, offset: 2n },
        ],
      },
    });
    expect(writtenPartitions(error, 'user-actions')).toEqual(new Set([0, 3]));
    expect(writtenPartitions(new NetworkError('Connection error'), 'user-actions')).toEqual(new Set());
  });
});
