/** The counts the docs state, held to what they count, so that neither goes stale alone. */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The numbers of the fault scenarios, from the suite's test names ("it('7. …"). */
function scenarioNumbers(): number[] {
  const folder = new URL('../faults/', import.meta.url);
  const names = readdirSync(folder).filter((name) => name.endsWith('.test.ts'));
  const numbers = names.flatMap((name) =>
    [...readFileSync(new URL(name, folder), 'utf8').matchAll(/\bit\(\s*['"`](\d+)\. /g)].map((match) => Number(match[1])),
  );
  return numbers.sort((a, b) => a - b);
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'];
const TENS = ['', '', 'twenty', 'thirty'];
function inWords(count: number): string {
  if (count < NUMBER_WORDS.length) return NUMBER_WORDS[count] as string;
  if (count < 20) return `${['thir', 'four', 'fif', 'six', 'seven', 'eigh', 'nine'][count - 13]}teen`;
  const tens = TENS[Math.floor(count / 10)] as string;
  return count % 10 === 0 ? tens : `${tens}-${NUMBER_WORDS[count % 10]}`;
}

it('the fault scenarios are numbered 1 to N, each once, and docs/testing.md lists the same N', () => {
  const numbers = scenarioNumbers();
  expect(numbers).toEqual(numbers.map((_, index) => index + 1));
  const listed = [...read('docs/testing.md').matchAll(/^(\d+)\. /gm)].map((match) => Number(match[1]));
  expect(listed).toEqual(numbers);
});

it("the README's count of fault scenarios is the suite's", () => {
  expect(read('README.md')).toContain(`${inWords(scenarioNumbers().length)} fault scenarios`);
});

it('docs/alerts.md has a runbook for each alert of monitoring/alerts.yml, and no other', () => {
  const alerts = [...read('monitoring/alerts.yml').matchAll(/^\s+- alert: (\w+)$/gm)].map((match) => match[1]);
  const runbooks = [...read('docs/alerts.md').matchAll(/^### (UserActions\w+)$/gm)].map((match) => match[1]);
  expect(runbooks.sort()).toEqual(alerts.sort());
});

it('one glossary: docs/architecture.md; the code points to it rather than keeping its own', () => {
  expect(read('docs/architecture.md')).toContain('## Glossary');
  expect(read('shared/src/event/schema.ts')).not.toMatch(/^\s*\*\s*Glossary/m);
});
