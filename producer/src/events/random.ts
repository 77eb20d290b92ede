/** The simulation's draws: a small seeded generator, and weighted and Zipf-distributed picks. */

/** sfc32: small, fast and good enough for simulation; seeded, so runs repeat. */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ (seed * 31);
  let c = 0xb7e15162;
  let d = 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Cumulative weights 1/rank^skew, for drawing a user in O(log n). */
export function zipfCumulative(count: number, skew: number): Float64Array {
  return cumulativeWeights(Array.from({ length: count }, (_, rank) => 1 / (rank + 1) ** skew));
}

export function drawIndex(cumulative: Float64Array, random: () => number): number {
  const target = random() * (cumulative[cumulative.length - 1] as number);
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] as number) < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function cumulativeWeights(weights: readonly number[]): Float64Array {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, index) => {
    total += weight;
    cumulative[index] = total;
  });
  return cumulative;
}

/** Removes and returns a random item. */
export function takeRandom<T>(items: T[], random: () => number): T {
  const index = Math.floor(random() * items.length);
  const [taken] = items.splice(index, 1);
  return taken as T;
}
