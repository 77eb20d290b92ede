import { parseUserActionEvent } from '@user-actions/shared/event/schema';
import { describe, expect, it } from 'vitest';
import { readCanonicalEvent } from '../src/decoding/canonical-event.js';

const event = {
  EventId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
  UserId: '550e8400-e29b-41d4-a716-446655440000',
  Action: 'Purchase',
  Metadata: { IpAddress: '192.168.1.145', Device: 'Chrome on Windows', Items: [{ Sku: 'A-1', Price: 9.5 }] },
  Timestamp: '2024-01-15T10:30:00.123Z',
};
const canonical = JSON.stringify(event);

/** What the general path makes of the same text, for comparison. */
function parsedWhole(text: string) {
  const parsed = parseUserActionEvent(text);
  return parsed.ok ? parsed.event : undefined;
}

describe('reading a message in the producer’s own shape', () => {
  it('gives the event the whole message parses to, and the Metadata text as it arrived', () => {
    const result = readCanonicalEvent(canonical);
    expect(result?.event).toEqual(event);
    expect(result?.metadataText).toBe(JSON.stringify(event.Metadata));
  });

  it.each([
    ['quotes, backslashes and braces in strings', { Query: 'say "hi" \\ {not} ,"Timestamp":"x"' }],
    ['characters beyond ASCII', { Device: 'Café on Pixel 8 😀', Note: '\u2028' }],
    ['a member named Timestamp of its own', { Timestamp: '2024-01-15T10:30:00Z' }],
    ['no metadata', null],
    ['empty metadata', {}],
  ])('handles %s', (_, metadata) => {
    const text = JSON.stringify({ ...event, Metadata: metadata });
    const result = readCanonicalEvent(text);
    expect(result?.event).toEqual(parsedWhole(text));
    expect(result?.metadataText === null ? null : JSON.parse(result?.metadataText ?? '')).toEqual(metadata);
  });

  it.each([
    [
      'another member order',
      JSON.stringify({
        UserId: event.UserId,
        EventId: event.EventId,
        Action: event.Action,
        Metadata: event.Metadata,
        Timestamp: event.Timestamp,
      }),
    ],
    ['no EventId (the original producer’s format)', JSON.stringify({ ...event, EventId: undefined })],
    ['spaces between members', JSON.stringify(event, null, 1)],
    ['an extra member after Metadata', canonical.replace(',"Timestamp"', ',"Extra":1,"Timestamp"')],
    ['Metadata twice', canonical.replace(',"Timestamp"', ',"Metadata":{},"Timestamp"')],
    ['text after the object', `${canonical} `],
    ['truncated', canonical.slice(0, -1)],
    ['Metadata that is not an object', JSON.stringify({ ...event, Metadata: 'Chrome' })],
    ['an unknown action', JSON.stringify({ ...event, Action: 'Dance' })],
    ['an invalid id', JSON.stringify({ ...event, UserId: '550e8400-e29b-41d4-a716-44665544000"' })],
    ['an escaped quote in the action', canonical.replace('"Purchase"', '"Purch\\"ase"')],
    ['a timestamp without a zone', JSON.stringify({ ...event, Timestamp: '2024-01-15T10:30:00' })],
    ['a NUL in the device', JSON.stringify({ ...event, Metadata: { Device: 'a\u0000b' } })],
    ['Metadata not valid JSON', canonical.replace('"Items"', 'Items')],
  ])('leaves %s to the general path', (_, text) => {
    expect(readCanonicalEvent(text)).toBeUndefined();
  });

  it('never accepts what the general path refuses, nor reads an event differently', () => {
    // Every cut of the message with one character removed or doubled.
    for (let at = 0; at < canonical.length; at++) {
      for (const text of [canonical.slice(0, at) + canonical.slice(at + 1), canonical.slice(0, at + 1) + canonical.slice(at)]) {
        const result = readCanonicalEvent(text);
        if (result) expect(result.event).toEqual(parsedWhole(text));
      }
    }
  });
});
