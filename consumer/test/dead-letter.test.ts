import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { originOf } from '../src/decoding/message-origin.js';
import { toReplayedMessage } from '../src/dlq-replay.js';
import { toDeadLetterMessage } from '../src/loading/dead-letter.js';
import { DeadLetterGuard } from '../src/loading/dead-letter-guard.js';

const message = (headers: KafkaMessage['headers'] = {}): KafkaMessage =>
  ({ key: Buffer.from('user-1'), value: Buffer.from('not json'), offset: '17', headers }) as KafkaMessage;

describe('dead-letter messages', () => {
  it('keep the original key, bytes and headers, and say why and where from', () => {
    const out = toDeadLetterMessage(
      { topic: 'user-actions', partition: 3, message: message({ trace: 'abc' }), stage: 'decode', reason: 'not valid JSON' },
      new Date('2026-01-01T00:00:00Z'),
    );
    expect(out.key?.toString()).toBe('user-1');
    expect(out.value?.toString()).toBe('not json');
    expect(out.headers).toEqual({
      trace: 'abc',
      'dlq.error': 'not valid JSON',
      'dlq.stage': 'decode',
      'dlq.source.topic': 'user-actions',
      'dlq.source.partition': '3',
      'dlq.source.offset': '17',
      'dlq.time': '2026-01-01T00:00:00.000Z',
    });
  });

  it('keep the first origin of a message that failed again after a replay', () => {
    const replayed = message({ 'dlq.source.topic': 'user-actions', 'dlq.source.partition': '1', 'dlq.source.offset': '5' });
    expect(originOf({ topic: 'user-actions', partition: 4, offset: '900' }, replayed.headers)).toEqual({
      topic: 'user-actions',
      partition: 1,
      offset: '5',
    });
    const out = toDeadLetterMessage({ topic: 'user-actions', partition: 4, message: replayed, stage: 'store', reason: 'x' });
    expect(out.headers).toMatchObject({ 'dlq.source.partition': '1', 'dlq.source.offset': '5' });
  });

  it('are replayed with their origin headers and without the failure headers', () => {
    const deadLetter = toDeadLetterMessage({ topic: 't', partition: 0, message: message(), stage: 'decode', reason: 'bad' });
    const replayed = toReplayedMessage({ ...message(), headers: deadLetter.headers } as KafkaMessage, new Date(0));
    expect(Object.keys(replayed.headers).sort()).toEqual([
      'dlq.replayed-at',
      'dlq.source.offset',
      'dlq.source.partition',
      'dlq.source.topic',
    ]);
  });
});

describe('the dead-letter guard', () => {
  it('trips when the share of dead letters in the window passes the limit', () => {
    const guard = new DeadLetterGuard({ maxRatio: 0.5, window: 200 });
    expect(guard.record(100, 10).tripped).toBe(false);
    expect(guard.record(100, 90).tripped).toBe(false); // 100 of 200
    expect(guard.record(100, 95).tripped).toBe(true); // the window now holds the last two batches: 185 of 200
  });

  it('waits for enough messages before judging', () => {
    const guard = new DeadLetterGuard({ maxRatio: 0.5, window: 1_000 });
    expect(guard.record(3, 3)).toMatchObject({ tripped: false, share: 0 });
    expect(guard.record(97, 97)).toMatchObject({ tripped: true, share: 1 });
  });

  it('reports the share it judges, for the alert that warns before it trips', () => {
    const guard = new DeadLetterGuard({ maxRatio: 0.5, window: 200 });
    expect(guard.record(100, 10).share).toBe(0.1);
    expect(guard.record(100, 50).share).toBe(0.3);
    expect(guard.record(100, 0).share).toBe(0.25); // the last two batches
  });

  it('is off with a ratio of 1', () => {
    const guard = new DeadLetterGuard({ maxRatio: 1, window: 10 });
    expect(guard.record(1_000, 1_000).tripped).toBe(false);
  });
});
