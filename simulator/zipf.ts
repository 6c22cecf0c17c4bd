/**
 * Zipf's law over a finite phrasebook: rank k (1-based) of n is chosen with
 * probability k^-s / H(n, s). Children repeat a few things a lot ("tell me a
 * story", "good night") and many things rarely; the skew s sets how much.
 */
import type { Rng } from './rng.js';

export interface Zipf {
  readonly n: number;
  readonly skew: number;
  /** The analytic probability of each rank, index 0 = rank 1. */
  readonly pmf: readonly number[];
  /** Draws a 0-based rank. */
  sample(rng: Rng): number;
}

export function createZipf(n: number, skew: number): Zipf {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf needs n >= 1, got ${n}`);
  if (!(skew >= 0)) throw new RangeError(`zipf needs skew >= 0, got ${skew}`);
  const weights = Array.from({ length: n }, (_, i) => (i + 1) ** -skew);
  const total = weights.reduce((a, b) => a + b, 0);
  const pmf = weights.map((w) => w / total);
  const cdf: number[] = [];
  let acc = 0;
  for (const p of pmf) cdf.push((acc += p));
  cdf[n - 1] = 1; // rounding must not leave a gap above the last rank
  return {
    n,
    skew,
    pmf,
    // Inverse-CDF by binary search: O(log n) per draw, exact for any skew.
    sample(rng) {
      const u = rng.next();
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}
