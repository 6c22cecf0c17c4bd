/**
 * Counters and latency histograms per layer. Latencies are HDR histograms in
 * microseconds; the L1 hit path is sampled (one in L1_SAMPLE) because timing
 * a sub-microsecond lookup would cost more than the lookup.
 */
import * as hdr from 'hdr-histogram-js';
import type { BreakerState } from './circuit-breaker.js';

export type Layer = 'l1' | 'l2' | 'l3' | 'compute';
const LAYERS: readonly Layer[] = ['l1', 'l2', 'l3', 'compute'];
export const L1_SAMPLE = 16;

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface LayerMetrics {
  hits: number;
  misses: number;
  errors: number;
  latency: LatencySummary;
}

export interface PerformanceMetrics {
  /** Requests answered from any layer over all requests (get + getWithFallback). */
  readonly hitRate: number;
  /** Mean end-to-end latency of get/getWithFallback calls, ms (L1 hits sampled). */
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
  requests = 0;
  hits = 0;
  misses = 0;
  evictions = 0;
  computes = 0;
  coalesced = 0;
  computeErrors = 0;
  staleServed = 0;
  sets = 0;
  deletes = 0;
  invalidationsReceived = 0;
  readonly layerHits: Record<Layer, number> = { l1: 0, l2: 0, l3: 0, compute: 0 };
  readonly layerMisses: Record<Layer, number> = { l1: 0, l2: 0, l3: 0, compute: 0 };
  readonly layerErrors: Record<Layer, number> = { l1: 0, l2: 0, l3: 0, compute: 0 };
  private readonly latency: Record<Layer, hdr.Histogram>;
  private readonly total: hdr.Histogram;
  private sampleTick = 0;

  constructor() {
    const build = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
    this.latency = { l1: build(), l2: build(), l3: build(), compute: build() };
    this.total = build();
  }

  /** True once every L1_SAMPLE calls: the caller then times this L1 lookup. */
  sampleL1(): boolean {
    return (++this.sampleTick & (L1_SAMPLE - 1)) === 0;
  }

  record(layer: Layer, micros: number): void {
    const us = Math.max(1, Math.round(micros));
    this.latency[layer].recordValue(us);
    this.total.recordValue(us);
  }

  snapshot(extra: { l1Bytes: number; l1Entries: number; breakerState: BreakerState }): PerformanceMetrics {
    const layers = {} as Record<Layer, LayerMetrics>;
    for (const layer of LAYERS) {
      layers[layer] = {
        hits: this.layerHits[layer],
        misses: this.layerMisses[layer],
        errors: this.layerErrors[layer],
        latency: summarize(this.latency[layer]),
      };
    }
    return {
      hitRate: this.requests === 0 ? 0 : this.hits / this.requests,
      averageLatencyMs: this.total.totalCount === 0 ? 0 : this.total.mean / 1000,
      requests: this.requests,
      hits: this.hits,
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

function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => us / 1000;
  return {
    count: h.totalCount,
    meanMs: h.totalCount === 0 ? 0 : ms(h.mean),
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    maxMs: ms(h.maxValue),
  };
}
