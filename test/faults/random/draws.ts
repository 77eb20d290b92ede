/**
 * The random run's draws, from one seed: which fault comes next, its durations, its victim. The same seed
 * draws the same faults with the same parameters (what the services then do with them still varies).
 */
export interface Draws {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** Every item, in an order drawn at random. */
  shuffled<T>(items: readonly T[]): T[];
}

/** mulberry32: small, fast and well spread; the run needs reproducible draws, not cryptography. */
export function seededDraws(seed: number): Draws {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const between = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    between,
    pick: (items) => items[between(0, items.length - 1)] as (typeof items)[number],
    shuffled(items) {
      const copy = [...items];
      for (let index = copy.length - 1; index > 0; index--) {
        const other = between(0, index);
        [copy[index], copy[other]] = [copy[other] as (typeof copy)[number], copy[index] as (typeof copy)[number]];
      }
      return copy;
    },
  };
}

/** Kinds in rounds, each round every kind once in a drawn order: over a run, each kind as often as another. */
export function* inRounds<T>(kinds: readonly T[], draws: Draws): Generator<T, never> {
  for (;;) yield* draws.shuffled(kinds);
}
