// The original system's way of answering GET /api/user/actions, for the read benchmark to set beside the
// API's stream: every matching row read into memory (as its Dapper query did), serialised as one JSON
// array, and only then written out. Run as a process of its own, so that its peak memory is its own.
// Prints { rows, seconds, peakRssMb } as JSON.
import { createWriteStream } from 'node:fs';
import pg from 'pg';

const [databaseUrl = '', start = '', end = ''] = process.argv.slice(2);
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
const startedAt = performance.now();
const { rows } = await client.query(
  `SELECT userid, action, ipaddress, device, "timestamp" FROM useractions
   WHERE "timestamp" >= $1 AND "timestamp" <= $2 ORDER BY "timestamp"`,
  [start, end],
);
const body = JSON.stringify(rows);
await new Promise((resolve) => createWriteStream('/dev/null').end(body, () => resolve(undefined)));
const seconds = (performance.now() - startedAt) / 1000;
await client.end();
process.stdout.write(`${JSON.stringify({ rows: rows.length, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
