import { type Admin, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { topicEnds } from '../src/kafka.js';

const ENDS = [{ partition: 0, offset: '2', low: '0', high: '2' }];

function protocolError(type: string, retriable: boolean) {
  // kafkajs builds these from the broker's error code; its typings only admit a message.
  return new KafkaJSProtocolError(Object.assign(new Error(type), { type, code: 0, retriable }));
}

/** An admin whose offset query fails with `errors` in turn, then answers. */
function adminFailingWith(...errors: Error[]) {
  let calls = 0;
  const admin = {
    fetchTopicOffsets: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return ENDS;
    },
  } as unknown as Admin;
  return { admin, calls: () => calls };
}

describe('topicEnds', () => {
  it('waits out a partition that has no leader yet, as right after the topic is created', async () => {
    const { admin, calls } = adminFailingWith(protocolError('NOT_LEADER_FOR_PARTITION', true));
    await expect(topicEnds(admin, 'events')).resolves.toEqual(ENDS);
    expect(calls()).toBe(2);
  });

  it('throws at once when it is not allowed to read the topic', async () => {
    const { admin, calls } = adminFailingWith(protocolError('TOPIC_AUTHORIZATION_FAILED', false));
    await expect(topicEnds(admin, 'events')).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(calls()).toBe(1);
  });
});
