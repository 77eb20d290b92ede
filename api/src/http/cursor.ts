/**
 * A page's cursor: the last row's `("timestamp", id)`, opaque to clients (base64url of a JSON pair), so
 * that the next page starts right after it whatever is inserted meanwhile.
 */
import type { Keyset } from '../reading/read-sql.js';

const STORED_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const ID = /^\d{1,19}$/;

export function encodeCursor({ timestamp, id }: Keyset): string {
  return Buffer.from(JSON.stringify([timestamp, id])).toString('base64url');
}

export function decodeCursor(cursor: string): Keyset | undefined {
  try {
    const pair: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(pair) || pair.length !== 2) return undefined;
    const [timestamp, id] = pair as unknown[];
    if (typeof timestamp !== 'string' || !STORED_TIME.test(timestamp)) return undefined;
    if (typeof id !== 'string' || !ID.test(id)) return undefined;
    return { timestamp, id };
  } catch {
    return undefined;
  }
}
