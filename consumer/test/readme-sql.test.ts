import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DEFAULT_TABLE, sqlFor } from '../src/sql/sql.js';

// The README shows the tables as the consumer makes them: the consumer's own text, held to it here.
it("the README's CREATE TABLE statements are the consumer's own", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const sql = sqlFor(DEFAULT_TABLE);
  const asWritten = (statement: string) => `${statement.trim().replace(/"(useractions\w*)"/g, '$1')};`;
  expect(readme).toContain(asWritten(sql.createPartitionedTable));
  expect(readme).toContain(asWritten(sql.createOffsetsTable));
});
