import { randomUUID } from 'node:crypto';

/** A valid event in the wire format, with overrides. */
export function userAction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    EventId: randomUUID(),
    UserId: randomUUID(),
    Action: 'Login',
    Metadata: { IpAddress: '10.0.0.1', Device: 'Firefox on Linux' },
    Timestamp: new Date().toISOString(),
    ...overrides,
  };
}

/** Serialised messages that all share one key, so they land on one partition in this order. */
export function onOnePartition(values: (string | Record<string, unknown>)[], key = 'one-partition') {
  return values.map((value) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
}
