/**
 * The table's time partitions, as dates: one partition per DATABASE_PARTITION_INTERVAL of `timestamp`
 * (boundaries in UTC, weeks from Monday), named for where it starts, made a few intervals ahead of the
 * clock so that no batch waits for one, and dropped once it lies wholly before DATABASE_RETENTION.
 * Pure functions of a clock the caller passes, so that tests cross boundaries without waiting.
 */

export const PARTITION_INTERVALS = ['hour', 'day', 'week', 'month', 'none'] as const;
export type PartitionInterval = (typeof PARTITION_INTERVALS)[number];
export type TimeUnit = Exclude<PartitionInterval, 'none'>;

/**
 * How many intervals ahead of the clock partitions exist: at least a day, so that a maintenance run
 * missed (PostgreSQL away, every consumer stopped) costs nothing, and so that events stamped a little
 * ahead (clocks drift) are stored. An event further ahead has no partition and is dead-lettered.
 */
export const INTERVALS_AHEAD: Record<TimeUnit, number> = { hour: 30, day: 3, week: 2, month: 2 };

/** An amount of time in calendar units: `30 days`, `12 hours`, `6 months`. */
export interface Retention {
  count: number;
  unit: TimeUnit;
}

const RETENTION_TEXT = /^\s*(\d{1,6})\s*(hour|day|week|month)s?\s*$/i;

/** `30 days` (or `1 month`, `12 hours`, `2 weeks`) as a Retention, or a sentence saying what is wrong. */
export function parseRetention(text: string): Retention | string {
  const match = RETENTION_TEXT.exec(text);
  if (!match || Number(match[1]) < 1) return 'must be a number and a unit, such as 30 days, 12 hours, 2 weeks or 6 months';
  return { count: Number(match[1]), unit: (match[2] as string).toLowerCase() as TimeUnit };
}

/** The start of the interval `at` falls in. */
export function intervalStart(unit: TimeUnit, at: Date): Date {
  const d = new Date(at.getTime());
  d.setUTCMinutes(0, 0, 0);
  if (unit === 'hour') return d;
  d.setUTCHours(0);
  if (unit === 'day') return d;
  if (unit === 'week') {
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    return d;
  }
  d.setUTCDate(1);
  return d;
}

/** `at` moved by `count` units (negative: back), in calendar terms for months. */
export function addTime(unit: TimeUnit, at: Date, count: number): Date {
  const d = new Date(at.getTime());
  if (unit === 'hour') d.setUTCHours(d.getUTCHours() + count);
  else if (unit === 'day') d.setUTCDate(d.getUTCDate() + count);
  else if (unit === 'week') d.setUTCDate(d.getUTCDate() + 7 * count);
  else d.setUTCMonth(d.getUTCMonth() + count);
  return d;
}

/** Events before this are outside the retention window. */
export function retentionCutoff(retention: Retention, now: Date): Date {
  return addTime(retention.unit, now, -retention.count);
}

/** A partition's name suffix: `p` and where it starts, as precisely as the interval needs (`p20261201`). */
export function partitionSuffix(unit: TimeUnit, start: Date): string {
  const iso = start.toISOString(); // 2026-12-01T10:00:00.000Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}`;
  return `p${digits.slice(0, unit === 'hour' ? 10 : unit === 'month' ? 6 : 8)}`;
}

export interface TimeRange {
  from: Date;
  to: Date;
}

/**
 * The partitions to make so that time is covered without a gap from where the newest partition ends
 * to INTERVALS_AHEAD past the clock; for a new table, from the start of the retention window (or, keeping
 * everything, of the current interval: what is older goes to the history partition). A first partition
 * after an interval change may be short, to reach the new interval's boundary. Nothing is made for time
 * already outside the retention window.
 */
export function partitionsToMake(
  unit: TimeUnit,
  { newestEnd, now, cutoff }: { newestEnd: Date | undefined; now: Date; cutoff?: Date },
): TimeRange[] {
  const horizon = addTime(unit, intervalStart(unit, now), INTERVALS_AHEAD[unit] + 1);
  let from = newestEnd ?? intervalStart(unit, cutoff ?? now);
  if (cutoff !== undefined && from < intervalStart(unit, cutoff)) from = intervalStart(unit, cutoff);
  const ranges: TimeRange[] = [];
  while (from < horizon) {
    const to = addTime(unit, intervalStart(unit, from), 1);
    ranges.push({ from, to });
    from = to;
  }
  return ranges;
}
