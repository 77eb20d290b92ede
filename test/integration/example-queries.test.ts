/**
 * The example queries of docs/operations.md run as written on the table the consumer makes (partitioned
 * by day), over simulated events.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { produceAndStore } from '../support/pipeline.js';
import { createWorld } from '../support/world.js';

const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const section = operations.slice(operations.indexOf('## Questions the simulated data answers'));
const queries = (/```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? '')
  .split(/;\s*\n/)
  .map((statement) => statement.replace(/^--.*$/gm, '').trim())
  .filter((statement) => statement.startsWith('SELECT'));

it('runs every example query of the operations guide on the partitioned table', async () => {
  expect(queries).toHaveLength(4);
  const world = await createWorld();
  const { consumer } = await produceAndStore(world, world.env, 2_000);
  for (const query of queries) {
    const { rows } = await world.db.query(query);
    expect(rows.length, query).toBeGreaterThan(0);
  }
  const [conversion] = (await world.db.query(queries[0] as string)).rows;
  expect(Number(conversion.added_to_cart)).toBeGreaterThan(0);
  expect((await consumer.stop()).code).toBe(0);
});
