/**
 * The shipped alert rules (monitoring/alerts.yml) on a test's clock: every `for`, range and offset
 * divided by the same factor, every expression and threshold as shipped.
 */
import { readFileSync } from 'node:fs';

const repo = new URL('../../', import.meta.url).pathname;
export const ALERT_RULES_FILE = `${repo}monitoring/alerts.yml`;

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function alertRulesScaledDown(factor: number): string {
  // A duration after `for: `, `[`, the `:` of a subquery, or `offset `.
  return readFileSync(ALERT_RULES_FILE, 'utf8').replace(
    /(for: |\[|:|offset )(\d+)([smhd])\b/g,
    (_, before: string, amount: string, unit: keyof typeof UNIT_MS) =>
      `${before}${Math.max(1, Math.round((Number(amount) * UNIT_MS[unit]) / factor))}ms`,
  );
}
