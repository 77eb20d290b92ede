/**
 * Milliseconds since the epoch as ISO-8601. In load mode hundreds of events share a millisecond, and
 * formatting costs about as much as generating the rest of an event, so the last one is kept.
 */
let lastMs = Number.NaN;
let lastIso = '';

export function isoTimestamp(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}
