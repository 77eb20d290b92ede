import { describe, expect, it } from 'vitest';
import { copyValue, toCopyText } from '../src/copy-text.js';

describe('COPY text encoding', () => {
  it('escapes exactly the characters COPY text gives a meaning to', () => {
    expect(copyValue('plain value, "quoted"')).toBe('plain value, "quoted"');
    expect(copyValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyValue('\\N')).toBe('\\\\N');
    expect(copyValue(null)).toBe('\\N');
  });

  it('writes one line per row, columns separated by tabs', () => {
    const text = toCopyText([
      { eventId: 'e', userId: 'u', action: 'Login', ipAddress: null, device: 'x\ty', timestamp: 't', metadata: '{"a":"\\n"}' },
      { eventId: 'e2', userId: 'u2', action: 'Logout', ipAddress: '10.0.0.1', device: null, timestamp: 't2', metadata: null },
    ]);
    expect(text).toBe('e\tu\tLogin\t\\N\tx\\ty\tt\t{"a":"\\\\n"}\ne2\tu2\tLogout\t10.0.0.1\t\\N\tt2\t\\N\n');
  });
});
