import { describe, expect, it } from 'vitest';
import { ACTIONS, isPlainlyValid, parseUserActionEvent, userActionEventSchema } from '../src/event/schema.js';

// The example message of the original system's README.
const SEED_EXAMPLE = `{
  "UserId": "550e8400-e29b-41d4-a716-446655440000",
  "Action": "Purchase",
  "Metadata": {
    "IpAddress": "192.168.1.145",
    "Device": "Chrome on Windows"
  },
  "Timestamp": "2024-01-15T10:30:00Z"
}`;

function reasonFor(value: string): string {
  const result = parseUserActionEvent(value);
  if (result.ok) throw new Error(`expected ${value} to be rejected`);
  return result.reason;
}

function withChange(change: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(SEED_EXAMPLE), ...change });
}

describe('the user-action event schema', () => {
  it('accepts the seed README example message as it is', () => {
    const result = parseUserActionEvent(SEED_EXAMPLE);
    expect(result).toEqual({ ok: true, event: JSON.parse(SEED_EXAMPLE) });
  });

  it('accepts an EventId, unknown extra fields, fractional seconds and zone offsets', () => {
    const result = parseUserActionEvent(
      withChange({
        EventId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
        SessionId: 's-1',
        Timestamp: '2024-01-15T10:30:00.1234567+02:00',
      }),
    );
    expect(result.ok).toBe(true);
  });

  it('knows exactly the 16 actions of the original system', () => {
    expect(ACTIONS).toHaveLength(16);
    for (const action of ACTIONS) expect(parseUserActionEvent(withChange({ Action: action })).ok).toBe(true);
  });

  it.each([
    ['an empty message', '', 'empty message'],
    ['text that is not JSON', 'hello', 'not valid JSON'],
    ['truncated JSON', SEED_EXAMPLE.slice(0, 40), 'not valid JSON'],
    ['a JSON array', '[1,2]', 'message: Invalid input'],
    ['a missing UserId', withChange({ UserId: undefined }), 'UserId'],
    ['a UserId that is not a UUID', withChange({ UserId: '12345' }), 'UserId'],
    ['an EventId that is not a UUID', withChange({ EventId: 'abc' }), 'EventId'],
    ['an unknown action', withChange({ Action: 'Teleport' }), 'Action'],
    ['an action in the wrong case', withChange({ Action: 'purchase' }), 'Action'],
    ['a missing Timestamp', withChange({ Timestamp: undefined }), 'Timestamp'],
    ['a Timestamp without a zone', withChange({ Timestamp: '2024-01-15T10:30:00' }), 'Timestamp'],
    ['a Timestamp that is not a date', withChange({ Timestamp: 'yesterday' }), 'Timestamp'],
    ['Metadata that is not an object', withChange({ Metadata: 'Chrome' }), 'Metadata'],
    ['an IpAddress that is not a string', withChange({ Metadata: { IpAddress: 42 } }), 'Metadata.IpAddress'],
    ['a Device with a NUL character', withChange({ Metadata: { Device: 'Chrome\u0000' } }), 'Metadata.Device'],
  ])('rejects %s, naming the problem', (_, value, expected) => {
    expect(reasonFor(value)).toContain(expected);
  });

  it('names every problem of a message at once', () => {
    const reason = reasonFor(JSON.stringify({ UserId: 'x', Action: 'Fly', Timestamp: 'now' }));
    expect(reason).toMatch(/UserId.*Action.*Timestamp/);
  });
});

describe('the shortcut for well-formed events', () => {
  const seed = JSON.parse(SEED_EXAMPLE) as Record<string, unknown>;
  const variants: Record<string, unknown>[] = [
    {},
    { EventId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' },
    { EventId: '1B4E28BA-2FA1-11D2-883F-0016D3CCA427', UserId: '00000000-0000-0000-0000-000000000000' },
    { EventId: null },
    { EventId: 42 },
    { EventId: '1b4e28ba2fa111d2883f0016d3cca427' },
    { UserId: undefined },
    { UserId: ' 550e8400-e29b-41d4-a716-446655440000' },
    { UserId: '550e8400-e29b-41d4-a716-44665544000g' },
    { Action: 'purchase' },
    { Action: null },
    { Action: ['Purchase'] },
    { Metadata: null },
    { Metadata: undefined },
    { Metadata: {} },
    { Metadata: [] },
    { Metadata: 'Chrome' },
    { Metadata: { IpAddress: null, Device: null, Extra: { nested: true } } },
    { Metadata: { IpAddress: 42 } },
    { Metadata: { Device: 'Chrome\u0000' } },
    { Metadata: { Device: ['Chrome'] } },
    { Timestamp: '2024-02-29T00:00:00Z' },
    { Timestamp: '2023-02-29T00:00:00Z' },
    { Timestamp: '2024-04-31T00:00:00Z' },
    { Timestamp: '2024-01-15T10:30:00.1234567+02:00' },
    { Timestamp: '2024-01-15T10:30:00+0200' },
    { Timestamp: '2024-01-15T24:00:00Z' },
    { Timestamp: '2024-01-15 10:30:00Z' },
    { Timestamp: '2024-01-15T10:30Z' },
    { Timestamp: 1705314600000 },
    { SessionId: 's-1', Nested: { a: [1, 2] } },
  ];

  it.each(variants.map((change) => [JSON.stringify(change), change]))('agrees with the schema on %s', (_, change) => {
    const event = { ...seed, ...change };
    const schemaAccepts = userActionEventSchema.safeParse(event).success;
    // Never accepts what the schema refuses; accepts the ordinary events that make up the stream.
    if (isPlainlyValid(event)) expect(schemaAccepts).toBe(true);
    expect(parseUserActionEvent(JSON.stringify(event)).ok).toBe(schemaAccepts);
  });

  it('takes every ordinary event, so that zod runs only for the unusual ones', () => {
    expect(isPlainlyValid(seed)).toBe(true);
    expect(isPlainlyValid({ ...seed, EventId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', Metadata: { Query: 'x' } })).toBe(true);
    expect(isPlainlyValid({ ...seed, Metadata: null })).toBe(true);
  });
});
