import { ACTIONS } from '@user-actions/shared/event/schema';
import { describe, expect, it } from 'vitest';
import { copyValue, toCopyRows } from '../src/decoding/copy-rows.js';

describe('COPY text encoding', () => {
  it('escapes exactly the characters COPY text gives a meaning to', () => {
    expect(copyValue('plain value, "quoted"')).toBe('plain value, "quoted"');
    expect(copyValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyValue('\\N')).toBe('\\\\N');
    expect(copyValue(null)).toBe('\\N');
  });

  const rows = [
    { eventId: 'e', userId: 'u', action: 'Login', ipAddress: null, device: 'x\ty', timestamp: 't', metadata: '{"a":"\\n"}' },
    { eventId: 'e2', userId: 'u2', action: 'Logout', ipAddress: '10.0.0.1', device: null, timestamp: 't2', metadata: null },
    { eventId: 'e3', userId: 'u3', action: 'Search', ipAddress: null, device: 'café 🚀', timestamp: 't3', metadata: null },
  ];
  // In the order of the table's columns (shared/src/postgres/columns.ts): userid … timestamp, event_id, metadata.
  const lines = [
    'u\tLogin\t\\N\tx\\ty\tt\te\t{"a":"\\\\n"}\n',
    'u2\tLogout\t10.0.0.1\t\\N\tt2\te2\t\\N\n',
    'u3\tSearch\t\\N\tcafé 🚀\tt3\te3\t\\N\n',
  ];

  it('writes one line per row, columns separated by tabs, as UTF-8', () => {
    expect(toCopyRows(rows).text.toString('utf8')).toBe(lines.join(''));
  });

  it('cuts the rows into consecutive parts without re-encoding, however the text grows', () => {
    const many = Array.from({ length: 3_000 }, (_, index) => rows[index % rows.length] as (typeof rows)[number]);
    const encoded = toCopyRows(many);
    expect(encoded.length).toBe(3_000);
    expect(encoded.slice(2, 4).text.toString('utf8')).toBe(`${lines[2]}${lines[0]}`);
    expect(encoded.slice(1, 3).slice(1).text.toString('utf8')).toBe(lines[2]);
    expect(encoded.slice(2_999).text.toString('utf8')).toBe(lines[2]);
    expect(encoded.slice(3, 3).length).toBe(0);
  });

  it("counts its rows per second and action, a slice's own rows only, whatever the timestamp's zone", () => {
    const at = (timestamp: string, action: string) => ({ ...(rows[1] as (typeof rows)[number]), timestamp, action });
    const encoded = toCopyRows([
      at('2026-12-01T10:00:00.100Z', 'Login'),
      at('2026-12-01T10:00:00.900Z', 'Login'),
      at('2026-12-01T11:00:00.500+01:00', 'Login'),
      at('2026-12-01T10:00:01.000Z', 'Login'),
      at('2026-12-01T10:00:00.000Z', 'Purchase'),
    ]);
    const second = Date.parse('2026-12-01T10:00:00Z') / 1000;
    const login = ACTIONS.indexOf('Login');
    const purchase = ACTIONS.indexOf('Purchase');
    expect(encoded.countsPerSecond()).toEqual([
      [second, login, 3],
      [second + 1, login, 1],
      [second, purchase, 1],
    ]);
    expect(encoded.slice(1, 4).countsPerSecond()).toEqual([
      [second, login, 2],
      [second + 1, login, 1],
    ]);
    expect(encoded.slice(4, 4).countsPerSecond()).toEqual([]);
  });

  it('makes room for rows of characters that take three bytes each', () => {
    const wide = { ...(rows[0] as (typeof rows)[number]), device: '€'.repeat(20_000) };
    const text = toCopyRows([wide, wide, wide]).text.toString('utf8');
    expect(text).toBe(lines[0]?.replace('x\\ty', '€'.repeat(20_000)).repeat(3));
  });
});
