/**
 * Counters and latency histograms per layer, at constant cost per call.
 * The L1 hit path increments one counter; one hit in L1_SAMPLE is timed
 * (timing a sub-microsecond lookup on every call would cost more than the
 * lookup). Everything else (requests, hit rate) is derived at snapshot time.
 */
import type { BreakerState } from './circuit-breaker.js';
import { createLatencyHistogram, recordMicros, summarizeLatency, type Histogram, type LatencySummary } from './latency.js';
import { emptyLatencyBuckets, latencyBucketIndex } from './latency-buckets.js';

export type Layer = 'l1' | 'l2' | 'l3' | 'compute';
const LAYERS: readonly Layer[] = ['l1', 'l2', 'l3', 'compute'];
/** A power of two: one L1 hit in this many is timed. */
export const L1_SAMPLE = 64;

export interface LayerMetrics {
  hits: number;
  misses: number;
  errors: number;
  latency: LatencySummary;
  /** The same timed calls in the fixed buckets of ./latency-buckets.ts (counts since start). */
  latencyBuckets: readonly number[];
}

export interface PerformanceMetrics {
  /** Requests answered from any layer over all requests (get, getWithFallback, fetch). */
  readonly hitRate: number;
  /** Mean latency of timed lookups and computes, ms (L1 hits sampled). */
  readonly averageLatencyMs: number;
  readonly requests: number;
  readonly hits: number;
  readonly misses: number;
  readonly layers: Readonly<Record<Layer, LayerMetrics>>;
  readonly l1Bytes: number;
  readonly l1Entries: number;
  readonly evictions: number;
  readonly computes: number;
  /** Callers that waited on another caller's compute (here or in another instance) instead of computing. */
  readonly coalescedComputes: number;
  readonly computeErrors: number;
  readonly staleServed: number;
  readonly l2Errors: number;
  readonly breakerState: BreakerState;
  readonly sets: number;
  readonly deletes: number;
  readonly invalidationsReceived: number;
}

export class CacheMetrics {
  /** L1 hits on the fast path (get/peek/fetch without options). */
  l1Hits = 0;
  /** Requests that looked below L1 (or skipped it): each ends as a hit in some layer or a miss. */
  lookups = 0;
  misses = 0;
  evictions = 0;
  computes = 0;
  coalesced = 0;
  computeErrors = 0;
  staleServed = 0;
  sets = 0;
  deletes = 0;
  invalidationsReceived = 0;
  /** Hits and misses below the fast path (an L1 hit there is a slow-path one: with options). */
  readonly layerHits: Record<Layer, number> = { l1: 0, l2: 0, l3: 0, compute: 0 };
  readonly layerMisses: Record<Layer, number> = { l1: 0, l2: 0, l3: 0, compute: 0 };
  readonly layerErrors: Record<Layer, number> = { l1: 0, l2: 0, l3: 0, compute: 0 };
  private readonly latency: Record<Layer, Histogram> = {
    l1: createLatencyHistogram(), l2: createLatencyHistogram(), l3: createLatencyHistogram(), compute: createLatencyHistogram(),
  };
  private readonly buckets: Record<Layer, number[]> = {
    l1: emptyLatencyBuckets(), l2: emptyLatencyBuckets(), l3: emptyLatencyBuckets(), compute: emptyLatencyBuckets(),
  };
  private readonly total = createLatencyHistogram();

  record(layer: Layer, micros: number): void {
    recordMicros(this.latency[layer], micros);
    recordMicros(this.total, micros);
    this.buckets[layer][latencyBucketIndex(micros / 1000)]! += 1;
  }

  snapshot(extra: { l1Bytes: number; l1Entries: number; breakerState: BreakerState }): PerformanceMetrics {
    const layers = {} as Record<Layer, LayerMetrics>;
    for (const layer of LAYERS) {
      layers[layer] = {
        hits: this.layerHits[layer] + (layer === 'l1' ? this.l1Hits : 0),
        misses: this.layerMisses[layer],
        errors: this.layerErrors[layer],
        latency: summarizeLatency(this.latency[layer]),
        latencyBuckets: [...this.buckets[layer]],
      };
    }
    const requests = this.l1Hits + this.lookups;
    const hits = requests - this.misses;
    return {
      hitRate: requests === 0 ? 0 : hits / requests,
      averageLatencyMs: summarizeLatency(this.total).meanMs,
      requests,
      hits,
      misses: this.misses,
      layers,
      l1Bytes: extra.l1Bytes,
      l1Entries: extra.l1Entries,
      evictions: this.evictions,
      computes: this.computes,
      coalescedComputes: this.coalesced,
      computeErrors: this.computeErrors,
      staleServed: this.staleServed,
      l2Errors: this.layerErrors.l2,
      breakerState: extra.breakerState,
      sets: this.sets,
      deletes: this.deletes,
      invalidationsReceived: this.invalidationsReceived,
    };
  }
}
