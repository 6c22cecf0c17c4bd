/**
 * Optimization advice: what the metrics say to change. Pure function of a
 * metrics snapshot and the config, so it can run anywhere (CLI, dashboard,
 * the gateway's ops report). Each piece of advice carries the evidence that
 * triggered it: the figures and the bound they crossed, so an operator can
 * check the reasoning instead of trusting it.
 */
import type { CacheConfig } from './config.js';
import type { PerformanceMetrics } from './metrics.js';

export interface Advice {
  readonly code: 'l1-evicting' | 'low-hit-rate' | 'l2-failing' | 'stale-served' | 'slow-compute-warm';
  readonly message: string;
  /** The measured figures behind the advice, and the threshold they crossed. */
  readonly evidence: Readonly<Record<string, number | string>>;
}

/** Below this many requests the numbers say nothing yet. */
const MIN_REQUESTS = 200;
const EVICTION_SHARE = 0.1;
const LOW_HIT_RATE = 0.5;
const SLOW_COMPUTE_FACTOR = 100;

export function adviseCache(m: PerformanceMetrics, config: Pick<CacheConfig, 'l1MaxSizeMb'>): Advice[] {
  const advice: Advice[] = [];
  const writes = m.sets + m.computes;
  if (writes > 0 && m.evictions > EVICTION_SHARE * writes) {
    advice.push({
      code: 'l1-evicting',
      message: `L1 evicted ${m.evictions} entries for ${writes} writes at ${config.l1MaxSizeMb} MiB: raise l1MaxSizeMb (in use: ${(m.l1Bytes / 1048576).toFixed(1)} MiB).`,
      evidence: { evictions: m.evictions, writes, threshold: `evictions > ${EVICTION_SHARE} × writes`, l1MaxSizeMb: config.l1MaxSizeMb, l1Bytes: m.l1Bytes },
    });
  }
  if (m.l2Errors > 0 || m.breakerState !== 'closed') {
    advice.push({
      code: 'l2-failing',
      message: `L2 had ${m.l2Errors} errors and its breaker is ${m.breakerState}: check Redis reachability and l2TimeoutMs.`,
      evidence: { l2Errors: m.l2Errors, breakerState: m.breakerState, threshold: 'any L2 error or a breaker not closed' },
    });
  }
  if (m.requests >= MIN_REQUESTS && m.hitRate < LOW_HIT_RATE) {
    advice.push({
      code: 'low-hit-rate',
      message: `hit rate is ${(m.hitRate * 100).toFixed(1)}%: keys may include volatile data (timestamps, ids) or TTLs are too short.`,
      evidence: { hitRate: m.hitRate, requests: m.requests, threshold: LOW_HIT_RATE, minRequests: MIN_REQUESTS },
    });
  }
  if (m.staleServed > 0) {
    advice.push({
      code: 'stale-served',
      message: `${m.staleServed} stale values stood in for failed computes: the upstream provider is failing.`,
      evidence: { staleServed: m.staleServed, computeErrors: m.computeErrors, threshold: 'any stale value served' },
    });
  }
  const computeP50 = m.layers.compute.latency.p50Ms;
  const l2P50 = Math.max(m.layers.l2.latency.p50Ms, 0.1);
  if (m.layers.compute.latency.count >= 10 && computeP50 > SLOW_COMPUTE_FACTOR * l2P50) {
    advice.push({
      code: 'slow-compute-warm',
      message: `a compute takes ${computeP50.toFixed(0)} ms at p50: warm the most common keys ahead of demand (cache.warmCache).`,
      evidence: { computeP50Ms: computeP50, l2P50Ms: m.layers.l2.latency.p50Ms, computes: m.layers.compute.latency.count, threshold: `compute p50 > ${SLOW_COMPUTE_FACTOR} × L2 p50` },
    });
  }
  return advice;
}
