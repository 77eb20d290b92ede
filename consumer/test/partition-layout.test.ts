import { describe, expect, it } from 'vitest';
import { loadConsumerConfig } from '../src/config.js';
import {
  addTime,
  intervalStart,
  parseRetention,
  partitionSuffix,
  partitionsToMake,
  retentionCutoff,
} from '../src/schema/partition-layout.js';

const at = (iso: string) => new Date(iso);
const iso = (ranges: { from: Date; to: Date }[]) => ranges.map(({ from, to }) => [from.toISOString(), to.toISOString()]);

describe('time partitions', () => {
  it('starts each interval on its UTC boundary, weeks on Monday', () => {
    const now = at('2026-12-03T17:45:12.345Z'); // a Thursday
    expect(intervalStart('hour', now).toISOString()).toBe('2026-12-03T17:00:00.000Z');
    expect(intervalStart('day', now).toISOString()).toBe('2026-12-03T00:00:00.000Z');
    expect(intervalStart('week', now).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(intervalStart('week', at('2026-11-29T23:59:59Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z'); // a Sunday
    expect(intervalStart('month', now).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('moves by calendar months, across year ends and short months', () => {
    expect(addTime('month', at('2026-12-01T00:00:00Z'), 1).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(addTime('month', at('2026-03-01T00:00:00Z'), -1).toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(addTime('hour', at('2026-12-31T23:00:00Z'), 1).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('names partitions for where they start, as precisely as the interval needs', () => {
    expect(partitionSuffix('hour', at('2026-12-01T09:00:00Z'))).toBe('p2026120109');
    expect(partitionSuffix('day', at('2026-12-01T00:00:00Z'))).toBe('p20261201');
    expect(partitionSuffix('week', at('2026-11-30T00:00:00Z'))).toBe('p20261130');
    expect(partitionSuffix('month', at('2026-12-01T00:00:00Z'))).toBe('p202612');
  });

  it('makes the current interval and the next ones of a new table, and only the missing ones after', () => {
    const now = at('2026-12-01T10:00:00Z');
    expect(iso(partitionsToMake('day', { newestEnd: undefined, now }))).toEqual([
      ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
      ['2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
      ['2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z'],
      ['2026-12-04T00:00:00.000Z', '2026-12-05T00:00:00.000Z'],
    ]);
    expect(partitionsToMake('day', { newestEnd: at('2026-12-05T00:00:00Z'), now })).toEqual([]);
    // Across the boundary: the clock reaches the next day, one more partition ahead.
    expect(iso(partitionsToMake('day', { newestEnd: at('2026-12-05T00:00:00Z'), now: at('2026-12-02T00:00:01Z') }))).toEqual([
      ['2026-12-05T00:00:00.000Z', '2026-12-06T00:00:00.000Z'],
    ]);
  });

  it('fills the time missed while no consumer ran, without a gap', () => {
    const made = partitionsToMake('day', { newestEnd: at('2026-11-20T00:00:00Z'), now: at('2026-12-01T10:00:00Z') });
    expect(made).toHaveLength(15);
    made.forEach((range, index) => {
      if (index > 0) expect(range.from).toEqual(made[index - 1]?.to);
    });
  });

  it("makes a new table's partitions from where the retention window starts", () => {
    const made = partitionsToMake('day', {
      newestEnd: undefined,
      now: at('2026-12-01T10:00:00Z'),
      cutoff: at('2026-11-24T10:00:00Z'),
    });
    expect(made[0]?.from.toISOString()).toBe('2026-11-24T00:00:00.000Z');
    expect(made).toHaveLength(11);
  });

  it('makes nothing for time already outside the retention window', () => {
    const made = partitionsToMake('day', {
      newestEnd: at('2026-10-01T00:00:00Z'),
      now: at('2026-12-01T10:00:00Z'),
      cutoff: at('2026-11-28T10:00:00Z'),
    });
    expect(made[0]?.from.toISOString()).toBe('2026-11-28T00:00:00.000Z');
  });

  it('after a change of interval, reaches the new boundary with a short partition first', () => {
    const made = partitionsToMake('week', { newestEnd: at('2026-12-04T00:00:00Z'), now: at('2026-12-02T10:00:00Z') });
    expect(iso(made.slice(0, 2))).toEqual([
      ['2026-12-04T00:00:00.000Z', '2026-12-07T00:00:00.000Z'],
      ['2026-12-07T00:00:00.000Z', '2026-12-14T00:00:00.000Z'],
    ]);
  });

  it('reads a retention in calendar units and finds where its window starts', () => {
    expect(parseRetention('30 days')).toEqual({ count: 30, unit: 'day' });
    expect(parseRetention('1 Month')).toEqual({ count: 1, unit: 'month' });
    expect(parseRetention('12hours')).toEqual({ count: 12, unit: 'hour' });
    for (const bad of ['30', 'days', '0 days', '-1 days', '30 years', '1.5 days'])
      expect(typeof parseRetention(bad), bad).toBe('string');
    expect(retentionCutoff({ count: 30, unit: 'day' }, at('2026-12-01T10:00:00Z')).toISOString()).toBe(
      '2026-11-01T10:00:00.000Z',
    );
  });
});

describe('the partition settings', () => {
  it('partitions by day by default and keeps everything', () => {
    expect(loadConsumerConfig({}).partitions).toEqual({ unit: 'day' });
    expect(loadConsumerConfig({ DATABASE_PARTITION_INTERVAL: 'none' }).partitions).toBeUndefined();
    expect(loadConsumerConfig({ DATABASE_PARTITION_INTERVAL: 'hour', DATABASE_RETENTION: '48 hours' }).partitions).toEqual({
      unit: 'hour',
      retention: { count: 48, unit: 'hour' },
    });
  });

  it('refuses a retention it cannot read, and a retention without partitions', () => {
    expect(() => loadConsumerConfig({ DATABASE_RETENTION: 'a month' })).toThrow(
      /DATABASE_RETENTION: must be a number and a unit/,
    );
    expect(() => loadConsumerConfig({ DATABASE_PARTITION_INTERVAL: 'none', DATABASE_RETENTION: '30 days' })).toThrow(
      /DATABASE_RETENTION needs a partitioned table/,
    );
    expect(() => loadConsumerConfig({ DATABASE_PARTITION_INTERVAL: 'year' })).toThrow(
      /DATABASE_PARTITION_INTERVAL: must be one of/,
    );
  });
});
