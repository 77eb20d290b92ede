/**
 * UUIDs as text, made from a source of random numbers (the simulation's seeded one, or Math.random)
 * instead of the operating system's: cheap enough for every event and, when seeded, repeatable.
 */

const word = (random: () => number) => (random() * 4294967296) >>> 0;

// Ids are written as ASCII into one buffer and read back as a single flat string: joining sixteen
// pieces instead (or number.toString(16)) made ids the costliest part of an event, and the pieced
// string cost again each time it was flattened into an event's JSON.
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const UUID_TEXT = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1');

/** Writes the four bytes of `bits` as hex digits, skipping the dashes of the UUID layout. */
function writeHex(bits: number, positions: readonly number[]): void {
  for (let index = 0; index < 4; index++) {
    const byte = (bits >>> (24 - index * 8)) & 255;
    const position = positions[index] as number;
    UUID_TEXT[position] = HEX_DIGITS[byte >>> 4] as number;
    UUID_TEXT[position + 1] = HEX_DIGITS[byte & 15] as number;
  }
}

const POSITIONS = [
  [0, 2, 4, 6],
  [9, 11, 14, 16],
  [19, 21, 24, 26],
  [28, 30, 32, 34],
] as const;

/** Ends either version the same way: the RFC variant and 62 random bits, then the text. */
function withRandomTail(random: () => number): string {
  writeHex((word(random) & 0x3fffffff) | 0x80000000, POSITIONS[2]);
  writeHex(word(random), POSITIONS[3]);
  return UUID_TEXT.toString('latin1');
}

/** A version-4 (random) UUID. */
export function uuidFrom(random: () => number): string {
  writeHex(word(random), POSITIONS[0]);
  writeHex((word(random) & 0xffff0fff) | 0x4000, POSITIONS[1]);
  return withRandomTail(random);
}

const TWO_TO_THE_16 = 65536;

/**
 * A version-7 UUID (RFC 9562): 48 bits of milliseconds since the epoch, then 74 random bits. Event ids
 * of this kind grow with time, so PostgreSQL appends them at the end of the table's unique index instead
 * of on random pages of it: storing an event then costs PostgreSQL about a quarter less CPU, and the
 * index stays cheap to insert into when it outgrows memory (docs/benchmarks.md).
 */
export function timeOrderedUuidFrom(timeMs: number, random: () => number): string {
  const high = Math.floor(timeMs / TWO_TO_THE_16);
  const low = timeMs - high * TWO_TO_THE_16;
  writeHex(high >>> 0, POSITIONS[0]);
  writeHex(((low << 16) | 0x7000 | (word(random) & 0x0fff)) >>> 0, POSITIONS[1]);
  return withRandomTail(random);
}
