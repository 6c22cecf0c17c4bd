/**
 * Latency histograms (HdrHistogram): constant memory however many samples,
 * exact to 3 significant digits, so p99.9 over a 10,000-bear run is honest.
 * Values are recorded in microseconds and reported in milliseconds.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Percentiles drawn in the report's latency-distribution chart. */
export const CURVE_PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100] as const;

export function createLatencyHistogram(): Histogram {
  // 1 µs .. 10 min; the packed layout keeps a sparse histogram small.
  return build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

const round3 = (us: number): number => Math.round(us) / 1000;

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  return {
    count: h.totalCount,
    meanMs: round3(h.mean),
    p50Ms: round3(h.getValueAtPercentile(50)),
    p90Ms: round3(h.getValueAtPercentile(90)),
    p99Ms: round3(h.getValueAtPercentile(99)),
    p999Ms: round3(h.getValueAtPercentile(99.9)),
    maxMs: round3(h.maxValue),
  };
}

/** [percentile, ms] pairs for the percentile-distribution chart. */
export function percentileCurve(h: Histogram): [number, number][] {
  if (h.totalCount === 0) return [];
  return CURVE_PERCENTILES.map((p) => [p, round3(h.getValueAtPercentile(p))]);
}
