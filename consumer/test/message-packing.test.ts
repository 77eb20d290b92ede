import { COLUMNS } from '@user-actions/shared/event/columns';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { copyRowsFrom } from '../src/decoding/copy-rows.js';
import { deriveEventId } from '../src/decoding/decode-message.js';
import { DLQ_HEADERS } from '../src/decoding/message-origin.js';
import { decodeMessages, packMessages } from '../src/decoding/message-packing.js';

const event = (userId: string, extra: object = {}) =>
  JSON.stringify({
    UserId: userId,
    Action: 'Search',
    Metadata: { IpAddress: '10.0.0.7', Device: 'Firefox on Linux', Query: 'tab\there' },
    Timestamp: '2026-11-26T07:00:00.250Z',
    ...extra,
  });

const USER = '550e8400-e29b-41d4-a716-446655440000';
const EVENT_ID = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

function message(offset: number, value: string | null, headers: KafkaMessage['headers'] = {}): KafkaMessage {
  return {
    key: null,
    value: value === null ? null : Buffer.from(value),
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers,
  } as KafkaMessage;
}

/** What the decoding thread receives, after the trip a structured clone makes of it. */
const decode = (messages: KafkaMessage[]) => decodeMessages(structuredClone(packMessages('events', 3, messages)));

describe('decoding a batch in one piece', () => {
  it('turns the valid messages into COPY rows and says which message each row came from', () => {
    const decoded = decode([
      message(10, event(USER, { EventId: EVENT_ID })),
      message(11, 'not json'),
      message(12, null),
      message(13, event(USER)),
    ]);
    const lines = copyRowsFrom(decoded.rows).text.toString('utf8').split('\n');
    expect(lines).toEqual([
      `${USER}\tSearch\t10.0.0.7\tFirefox on Linux\t2026-11-26T07:00:00.250Z\t${EVENT_ID}\t{"IpAddress":"10.0.0.7","Device":"Firefox on Linux","Query":"tab\\\\there"}`,
      `${USER}\tSearch\t10.0.0.7\tFirefox on Linux\t2026-11-26T07:00:00.250Z\t${deriveEventId('events', 3, '13')}\t{"IpAddress":"10.0.0.7","Device":"Firefox on Linux","Query":"tab\\\\there"}`,
      '',
    ]);
    expect([...decoded.sources]).toEqual([0, 3]);
    expect([...decoded.eventTimes]).toEqual([Date.parse('2026-11-26T07:00:00.250Z'), Date.parse('2026-11-26T07:00:00.250Z')]);
    expect(decoded.actions).toEqual([['Search', 2]]);
    expect(decoded.deadLetters.map(({ index }) => index)).toEqual([1, 2]);
    expect(decoded.deadLetters[0]?.reason).toMatch(/^not valid JSON/);
    expect(decoded.deadLetters[1]?.reason).toBe('empty message');
  });

  it('gives a replayed dead letter without EventId the id of where it first was, from its headers', () => {
    const replayed = message(0, event(USER), {
      [DLQ_HEADERS.sourceTopic]: Buffer.from('user-actions'),
      [DLQ_HEADERS.sourcePartition]: Buffer.from('5'),
      [DLQ_HEADERS.sourceOffset]: Buffer.from('1234'),
    });
    const decoded = decode([message(7, event(USER)), replayed]);
    const ids = copyRowsFrom(decoded.rows)
      .text.toString('utf8')
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t')[COLUMNS.findIndex(({ column }) => column === 'event_id')]);
    expect(ids).toEqual([deriveEventId('events', 3, '7'), deriveEventId('user-actions', 5, '1234')]);
  });
});
