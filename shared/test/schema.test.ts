import { describe, expect, it } from 'vitest';
import { ACTIONS, parseUserActionEvent } from '../src/schema.js';

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
