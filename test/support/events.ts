import { randomUUID } from 'node:crypto';
import type { UserActionRow } from '@user-actions/shared/event/columns';

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

/** Row number `index` of a table, as the consumer writes it (ids that sort by `index`). */
export function numberedRow(index: number): UserActionRow {
  return {
    eventId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    userId: '7f0c4b7e-0000-4000-8000-000000000001',
    action: 'Login',
    ipAddress: null,
    device: null,
    timestamp: '2026-11-26T10:00:00.000Z',
    metadata: null,
  };
}
