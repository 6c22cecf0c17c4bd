/**
 * Latency histograms (HdrHistogram): constant memory however many samples,
 * exact to three significant digits, so a p99.9 over millions of calls is
 * honest. Values are recorded in microseconds and summarized in
 * milliseconds. The cache's per-layer metrics use them, and so do the
 * simulator and the benchmarks, so every latency the project reports is
 * measured and summarized the same way.
 */
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';

export type { Histogram };

/**
 * The class the package's `build()` makes for the options below, from its own file. The package's
 * index also loads its WebAssembly build, with pako and base64 decoders to unpack it: 15.4 MB of
 * RSS in a bare process against 1.2 MB for this file alone, and 3–5 MB of a started gateway's
 * (measured), none of it used here. Required, not imported: a CommonJS file's default export
 * reaches ES modules differently under Node and under the test runner's bundler.
 */
const { default: Int32Histogram } = createRequire(import.meta.url)('hdr-histogram-js/dist/Int32Histogram.js') as {
  default: new (lowestDiscernibleValue: number, highestTrackableValue: number, numberOfSignificantValueDigits: number) => Histogram;
};

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/**
 * 1 µs to one hour, 32-bit counts: a record costs ~0.1 µs (the packed layout cost ~1.2 µs, more
 * than an L1 hit, and the cache records every L2 hit and compute). The array is ~95 KB of address
 * space, of which only the pages of buckets in use are ever touched.
 */
export function createLatencyHistogram(): Histogram {
  return new Int32Histogram(1, 3_600_000_000, 3);
}

export function recordMicros(h: Histogram, micros: number): void {
  h.recordValue(Math.max(1, Math.round(micros)));
}

/** Microseconds as milliseconds, to the microsecond. */
const ms = (us: number): number => Math.round(us) / 1000;

export function summarizeLatency(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  return {
    count: h.totalCount,
    meanMs: ms(h.mean),
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
    maxMs: ms(h.maxValue),
  };
}
