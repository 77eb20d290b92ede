import { describe, expect, it } from 'vitest';
import { decodeMessage, deriveEventId } from '../src/decoding/decode-message.js';

const seedEvent = {
  UserId: '550e8400-e29b-41d4-a716-446655440000',
  Action: 'Purchase',
  Metadata: { IpAddress: '192.168.1.145', Device: 'Chrome on Windows' },
  Timestamp: '2024-01-15T10:30:00Z',
};
const at = { topic: 'user-actions', partition: 2, offset: '41' };

describe('decoding a Kafka message into a row', () => {
  it('maps the wire fields onto the table columns', () => {
    const eventId = '1b4e28ba-2fa1-11d2-883f-0016d3cca427';
    const decoded = decodeMessage({ ...at, value: Buffer.from(JSON.stringify({ ...seedEvent, EventId: eventId })) });
    expect(decoded).toEqual({
      ok: true,
      row: {
        eventId,
        userId: seedEvent.UserId,
        action: 'Purchase',
        ipAddress: '192.168.1.145',
        device: 'Chrome on Windows',
        timestamp: '2024-01-15T10:30:00Z',
        metadata: JSON.stringify(seedEvent.Metadata),
      },
    });
  });

  it('keeps the whole Metadata, the fields the seed never had included', () => {
    const metadata = { IpAddress: '10.0.0.1', Device: 'App on Pixel 8', SessionId: 's-1', Cart: { items: 2 } };
    const decoded = decodeMessage({ ...at, value: Buffer.from(JSON.stringify({ ...seedEvent, Metadata: metadata })) });
    expect(decoded.ok && JSON.parse(decoded.row.metadata ?? 'null')).toEqual(metadata);
    const none = decodeMessage({ ...at, value: Buffer.from(JSON.stringify({ ...seedEvent, Metadata: undefined })) });
    expect(none.ok && none.row.metadata).toBeNull();
  });

  it('gives a message without EventId the id derived from its position, the same on every delivery', () => {
    const value = Buffer.from(JSON.stringify(seedEvent));
    const first = decodeMessage({ ...at, value });
    const again = decodeMessage({ ...at, value });
    expect(first.ok && first.row.eventId).toBe(deriveEventId('user-actions', 2, '41'));
    expect(again).toEqual(first);
  });

  it('derives different ids for different positions', () => {
    const ids = new Set([
      deriveEventId('user-actions', 2, '41'),
      deriveEventId('user-actions', 2, '42'),
      deriveEventId('user-actions', 3, '41'),
      deriveEventId('other-topic', 2, '41'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('stores missing metadata as NULL columns', () => {
    const { Metadata: _, ...withoutMetadata } = seedEvent;
    const decoded = decodeMessage({ ...at, value: Buffer.from(JSON.stringify(withoutMetadata)) });
    expect(decoded.ok && decoded.row).toMatchObject({ ipAddress: null, device: null });
  });

  it('rejects a tombstone (null value) with a reason', () => {
    expect(decodeMessage({ ...at, value: null })).toEqual({ ok: false, reason: 'empty message' });
  });
});
