import { describe, expect, it } from 'vitest';
import { timeOrderedUuidFrom, uuidFrom } from '../src/events/ids.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('UUIDs made from a random source', () => {
  it('are version 4 with the RFC variant, and all different', () => {
    const ids = Array.from({ length: 10_000 }, () => uuidFrom(Math.random));
    for (const id of ids) expect(UUID.exec(id)?.[1]).toBe('4');
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('for events are version 7: the millisecond first, so they sort in time order', () => {
    const start = Date.parse('2026-11-26T08:00:00.000Z');
    const ids = Array.from({ length: 10_000 }, (_, index) => timeOrderedUuidFrom(start + index * 3_600_007, Math.random));
    ids.forEach((id, index) => {
      expect(UUID.exec(id)?.[1]).toBe('7');
      // RFC 9562: the first 48 bits are the Unix time in milliseconds, big-endian.
      expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(start + index * 3_600_007);
    });
    expect([...ids].sort()).toEqual(ids);
  });

  it('for events of the same millisecond still differ', () => {
    const ids = Array.from({ length: 10_000 }, () => timeOrderedUuidFrom(0, Math.random));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]?.startsWith('00000000-0000-7')).toBe(true);
  });
});
