/**
 * The simulator's latency recording on the SDK's HdrHistogram helpers
 * (sdk/latency.ts): samples arrive in milliseconds, and the report draws a
 * percentile curve.
 */
import { recordMicros, type Histogram } from '../sdk/index.js';

/** Percentiles drawn in the report's latency-distribution chart. */
export const CURVE_PERCENTILES = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100] as const;

export function recordMs(h: Histogram, ms: number): void {
  recordMicros(h, ms * 1000);
}

/** [percentile, ms] pairs for the percentile-distribution chart. */
export function percentileCurve(h: Histogram): [number, number][] {
  if (h.totalCount === 0) return [];
  return CURVE_PERCENTILES.map((p) => [p, Math.round(h.getValueAtPercentile(p)) / 1000]);
}
