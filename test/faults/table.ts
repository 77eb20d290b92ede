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
];

/** Prints the suite's results as one Markdown table (the README shows one). */
export function printTable(results: readonly ScenarioResult[], size: string): void {
  const lines = [
    `Fault injection, ${size} size:`,
    '',
    `| ${COLUMNS.map(([, title]) => title).join(' | ')} |`,
    `| ${COLUMNS.map(([key]) => (key === 'scenario' ? '---' : '---:')).join(' | ')} |`,
    ...results.map((result) => `| ${COLUMNS.map(([key]) => String(result[key] ?? '')).join(' | ')} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
}
