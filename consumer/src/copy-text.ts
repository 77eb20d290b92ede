/**
 * Rows in PostgreSQL's COPY text format (tab-separated columns, `\N` for NULL, one line per row).
 * COPY is the fastest way to hand PostgreSQL many rows: a batch travels as one stream that the server
 * parses without a per-row statement or array literal.
 */
import type { UserActionRow } from './decode.js';

/** The columns, in the order `toCopyText` writes them. */
export const COPY_COLUMNS = ['event_id', 'userid', 'action', 'ipaddress', 'device', 'timestamp', 'metadata'] as const;

const SPECIAL = /[\\\t\n\r]/;
const EVERY_SPECIAL = new RegExp(SPECIAL.source, 'g');
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as COPY text reads it back unchanged: backslash, tab, newline and carriage return escaped. */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N';
  return SPECIAL.test(value) ? value.replace(EVERY_SPECIAL, (character) => ESCAPES[character] as string) : value;
}

export function toCopyText(rows: readonly UserActionRow[]): string {
  let text = '';
  for (const row of rows) {
    text += `${copyValue(row.eventId)}\t${copyValue(row.userId)}\t${copyValue(row.action)}\t${copyValue(row.ipAddress)}\t${copyValue(row.device)}\t${copyValue(row.timestamp)}\t${copyValue(row.metadata)}\n`;
  }
  return text;
}
