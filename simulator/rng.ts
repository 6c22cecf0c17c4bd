/**
 * Seeded pseudo-random numbers for the simulator: the same seed gives the same
 * trace, so a run can be reproduced and two cache configurations compared on
 * identical traffic.
 *
 * mulberry32 (Tommy Ettinger, public domain): 32 bits of state, one multiply
 * chain per draw, passes gjrand/PractRand well past what a traffic model needs.
 * Independent streams per bear come from `fork`, which seeds a new generator
 * from this one, so adding a bear does not shift every other bear's draws.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Exponentially distributed with the given mean (inter-arrival times, think times). */
  exponential(mean: number): number;
  /** A new generator whose stream is determined by this one's next draw. */
  fork(): Rng;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const nextU32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => nextU32() / 0x1_0000_0000;
  return {
    next,
    int: (n) => Math.floor(next() * n),
    // 1 - next() is in (0, 1], so the log is finite.
    exponential: (mean) => -Math.log(1 - next()) * mean,
    fork: () => createRng(nextU32()),
  };
}
