/** Fixed latency buckets: placement on the bounds, counts at a threshold, quantiles like histogram_quantile. */
import { describe, expect, it } from 'vitest';
import { CacheMetrics } from '../../sdk/metrics.js';
import {
  combineLatencyBuckets, countAtOrBelow, emptyLatencyBuckets, LATENCY_BUCKET_BOUNDS_MS, latencyBucketIndex, latencyQuantile,
} from '../../sdk/latency-buckets.js';

const at = (ms: number): number[] => {
  const counts = emptyLatencyBuckets();
  counts[latencyBucketIndex(ms)]! += 1;
  return counts;
};

describe('latency buckets', () => {
  it('put a value on a bound in that bound\'s bucket and past the last in the overflow', () => {
    expect(latencyBucketIndex(0)).toBe(0);
    expect(latencyBucketIndex(50)).toBe(LATENCY_BUCKET_BOUNDS_MS.indexOf(50));
    expect(latencyBucketIndex(50.001)).toBe(LATENCY_BUCKET_BOUNDS_MS.indexOf(100));
    expect(latencyBucketIndex(60_000)).toBe(LATENCY_BUCKET_BOUNDS_MS.length);
  });

  it('count exactly at a bound and interpolate between bounds', () => {
    const counts = combineLatencyBuckets(combineLatencyBuckets(at(20), at(40)), at(80));
    expect(countAtOrBelow(counts, 50)).toBe(2);
    expect(countAtOrBelow(counts, 100)).toBe(3);
    expect(countAtOrBelow(counts, 75)).toBeCloseTo(2.5); // half of the (50, 100] bucket
    expect(countAtOrBelow(counts, 1e9)).toBe(3);
    expect(countAtOrBelow(emptyLatencyBuckets(), 50)).toBe(0);
  });

  it('give quantiles within the right bucket, undefined without data', () => {
    const counts = emptyLatencyBuckets();
    counts[latencyBucketIndex(3)] = 99;
    counts[latencyBucketIndex(700)] = 1;
    expect(latencyQuantile(counts, 0.5)).toBeGreaterThan(2.5);
    expect(latencyQuantile(counts, 0.5)).toBeLessThanOrEqual(5);
    expect(latencyQuantile(counts, 0.999)).toBeGreaterThan(500);
    expect(latencyQuantile(emptyLatencyBuckets(), 0.99)).toBeUndefined();
  });

  it('subtract into one interval\'s counts', () => {
    expect(combineLatencyBuckets(combineLatencyBuckets(at(1), at(7)), at(1), -1)).toEqual(at(7));
  });

  it('are filled by the SDK\'s metrics for every timed call', () => {
    const m = new CacheMetrics();
    m.record('l2', 30_000); // 30 ms
    m.record('l2', 70_000);
    const l2 = m.snapshot({ l1Bytes: 0, l1Entries: 0, breakerState: 'closed' }).layers.l2;
    expect(l2.latencyBuckets.reduce((a, b) => a + b, 0)).toBe(2);
    expect(countAtOrBelow(l2.latencyBuckets, 50)).toBe(1);
  });
});
