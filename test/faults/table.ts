import type { ScenarioResult } from './scenario.js';

const COLUMNS: [keyof ScenarioResult, string][] = [
  ['scenario', 'scenario'],
  ['produced', 'produced'],
  ['stored', 'stored'],
  ['lost', 'lost'],
  ['duplicated', 'duplicated'],
  ['redelivered', 'redelivered'],
  ['deadLettered', 'dead-lettered'],
  ['deadLetterCopies', 'dead-letter copies'],
  ['recoverySeconds', 'recovery s'],
  ['databaseLost', 'rows PostgreSQL lost'],
  ['notReady', '/readyz said'],
  ['resumedAfterSeconds', 'storing again during it, s'],
  ['killedMidRound', 'kills mid-maintenance'],
  ['refilledAfterSeconds', 'refilled after the failover, s'],
];

/** Prints the suite's results as one Markdown table (the README shows one). */
export function printTable(results: readonly ScenarioResult[], title: string): void {
  // Columns no scenario of this table fills are left out.
  const columns = COLUMNS.filter(([key]) => results.some((result) => result[key] !== undefined));
  const lines = [
    `${title}:`,
    '',
    `| ${columns.map(([, heading]) => heading).join(' | ')} |`,
    `| ${columns.map(([key]) => (key === 'scenario' ? '---' : '---:')).join(' | ')} |`,
    ...results.map((result) => `| ${columns.map(([key]) => String(result[key] ?? '')).join(' | ')} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}
