import { type Admin, KafkaJSAggregateError, KafkaJSProtocolError } from 'kafkajs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FATAL_CODES } from '../src/errors.js';
import { ensureTopic, topicEnds } from '../src/kafka/topics.js';

/** A shutdown that never comes. */
const NEVER = new AbortController().signal;
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
    await expect(topicEnds(admin, 'events', { signal: NEVER })).resolves.toEqual(ENDS);
    expect(calls()).toBe(2);
  });

  it('throws at once when it is not allowed to read the topic', async () => {
    const { admin, calls } = adminFailingWith(protocolError('TOPIC_AUTHORIZATION_FAILED', false));
    await expect(topicEnds(admin, 'events', { signal: NEVER })).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(calls()).toBe(1);
  });
});

describe('ensureTopic', () => {
  const logger = pino({ level: 'silent' });
  const spec = { topic: 'events', partitions: 6, retentionMs: 604_800_000 };
  /** An admin for a topic that does not exist yet, whose creation fails with `errors` in turn. */
  function adminCreatingAfter(...errors: Error[]) {
    let calls = 0;
    const admin = {
      listTopics: async () => [],
      createTopics: async () => {
        const error = errors[calls++];
        if (error) throw error;
        return true;
      },
    } as unknown as Admin;
    return { admin, calls: () => calls };
  }
  const tooFewBrokers = () =>
    new KafkaJSAggregateError('Topic creation errors', [protocolError('INVALID_REPLICATION_FACTOR', false)]);

  it('waits while a cluster has fewer brokers registered than the replication factor, as while it starts', async () => {
    const { admin, calls } = adminCreatingAfter(tooFewBrokers(), tooFewBrokers());
    await ensureTopic(admin, spec, { logger, signal: NEVER });
    expect(calls()).toBe(3);
  });

  it('stops with what to fix when the brokers do not come', async () => {
    const { admin } = adminCreatingAfter(...Array.from({ length: 50 }, tooFewBrokers));
    const giving = ensureTopic(admin, spec, { logger, signal: NEVER, maxWaitMs: 300 });
    await expect(giving).rejects.toThrow(
      /fewer brokers are up than the cluster's default.replication.factor; start the missing brokers/,
    );
    await expect(giving).rejects.toMatchObject({ name: 'FatalError', code: FATAL_CODES.kafkaTopic });
  });

  it('gives up waiting for the brokers as soon as the daemon is asked to stop', async () => {
    const { admin } = adminCreatingAfter(...Array.from({ length: 50 }, tooFewBrokers));
    const stop = new AbortController();
    const waiting = ensureTopic(admin, spec, { logger, signal: stop.signal });
    setTimeout(() => stop.abort(), 50);
    const started = Date.now();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops at once when it may not create the topic', async () => {
    const denied = new KafkaJSAggregateError('Topic creation errors', [protocolError('TOPIC_AUTHORIZATION_FAILED', false)]);
    const { admin, calls } = adminCreatingAfter(denied);
    await expect(ensureTopic(admin, spec, { logger, signal: NEVER })).rejects.toThrow('Topic creation errors');
    expect(calls()).toBe(1);
  });
});
