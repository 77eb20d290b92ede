import { describe, expect, it } from 'vitest';
import { storeIsolatingBadRows } from '../src/loading/isolate-bad-rows.js';

const dataError = (message: string) => Object.assign(new Error(message), { code: '22008' });

/** Stands in for the INSERT: refuses a statement that contains any negative number, as PostgreSQL refuses a bad value. */
function insertRefusingNegatives(statements: number[][]) {
  return async (rows: readonly number[]) => {
    statements.push([...rows]);
    const bad = rows.find((row) => row < 0);
    if (bad !== undefined) throw dataError(`value ${bad} out of range`);
    return { inserted: rows.length, expired: 0 };
  };
}

describe('storing a batch while isolating rows PostgreSQL refuses', () => {
  it('stores a clean batch in one statement', async () => {
    const statements: number[][] = [];
    const result = await storeIsolatingBadRows([1, 2, 3, 4], insertRefusingNegatives(statements));
    expect(result).toEqual({ inserted: 4, expired: 0, deadLetters: [] });
    expect(statements).toHaveLength(1);
  });

  it('returns each refused row by index with the reason and stores every other row', async () => {
    const statements: number[][] = [];
    const rows = [1, 2, -3, 4, 5, 6, -7, 8];
    const result = await storeIsolatingBadRows(rows, insertRefusingNegatives(statements));
    expect(result.inserted).toBe(6);
    expect(result.deadLetters).toEqual([
      { index: 2, reason: 'PostgreSQL: value -3 out of range' },
      { index: 6, reason: 'PostgreSQL: value -7 out of range' },
    ]);
    const stored = statements.filter((statement) => statement.every((row) => row >= 0)).flat();
    expect(stored.sort()).toEqual([1, 2, 4, 5, 6, 8]);
  });

  it('does not split on failures that are not about the data', async () => {
    const outage = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    await expect(storeIsolatingBadRows([1, 2], async () => Promise.reject(outage))).rejects.toBe(outage);
  });
});
