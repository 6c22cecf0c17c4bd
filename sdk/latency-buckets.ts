/**
 * Fixed latency buckets, alongside the HdrHistograms (./latency.ts): counts
 * per bucket can be subtracted (the latency of one interval), summed across
 * processes (a fleet's latency) and compared with a threshold (how many calls
 * met an SLO), which a summary of percentiles cannot. The bounds are the
 * Prometheus-style "le" edges, in milliseconds; SLO thresholds on a bound are
 * exact, others are interpolated within their bucket.
 */

/** Upper bounds in ms. counts[i] holds values in (bounds[i-1], bounds[i]]; counts[bounds.length] the rest. */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

export function emptyLatencyBuckets(): number[] {
  return new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);
}

/** The bucket a value (ms) falls in: at most 16 comparisons. */
export function latencyBucketIndex(ms: number): number {
  const bounds = LATENCY_BUCKET_BOUNDS_MS;
  let i = 0;
  while (i < bounds.length && ms > bounds[i]!) i++;
  return i;
}

/** How many of the counted values are at or below `thresholdMs` (linear within the bucket holding it). */
export function countAtOrBelow(counts: readonly number[], thresholdMs: number): number {
  const bounds = LATENCY_BUCKET_BOUNDS_MS;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const upper = bounds[i] ?? Infinity;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (thresholdMs >= upper) below += counts[i]!;
    else {
      if (upper !== Infinity && thresholdMs > lower) below += (counts[i]! * (thresholdMs - lower)) / (upper - lower);
      break;
    }
  }
  return below;
}

/**
 * The q-quantile (0..1) in ms, interpolated within its bucket as Prometheus's histogram_quantile
 * does; undefined without counts. Values past the last bound report that bound.
 */
export function latencyQuantile(counts: readonly number[], q: number): number | undefined {
  const bounds = LATENCY_BUCKET_BOUNDS_MS;
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + ((bounds[i]! - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bounds[bounds.length - 1];
}

/** a + sign·b, bucket by bucket (an interval's counts, or a fleet's). */
export function combineLatencyBuckets(a: readonly number[], b: readonly number[], sign: 1 | -1 = 1): number[] {
  return a.map((v, i) => v + sign * (b[i] ?? 0));
}
