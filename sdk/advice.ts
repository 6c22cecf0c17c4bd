/**
 * Optimization advice: what the metrics say to change. Pure function of a
 * metrics snapshot and the config, so it can run anywhere (CLI, dashboard).
 */
import type { CacheConfig } from './config.js';
import type { PerformanceMetrics } from './metrics.js';

export interface Advice {
  readonly code: 'l1-evicting' | 'low-hit-rate' | 'l2-failing' | 'stale-served' | 'slow-compute-warm';
  readonly message: string;
}

/** Below this many requests the numbers say nothing yet. */
const MIN_REQUESTS = 200;

export function adviseCache(m: PerformanceMetrics, config: Pick<CacheConfig, 'l1MaxSizeMb'>): Advice[] {
  const advice: Advice[] = [];
  if (m.sets + m.computes > 0 && m.evictions > 0.1 * (m.sets + m.computes)) {
    advice.push({
      code: 'l1-evicting',
      message: `L1 evicted ${m.evictions} entries for ${m.sets + m.computes} writes at ${config.l1MaxSizeMb} MiB: raise l1MaxSizeMb (in use: ${(m.l1Bytes / 1048576).toFixed(1)} MiB).`,
    });
  }
  if (m.l2Errors > 0 || m.breakerState !== 'closed') {
    advice.push({ code: 'l2-failing', message: `L2 had ${m.l2Errors} errors and its breaker is ${m.breakerState}: check Redis reachability and l2TimeoutMs.` });
  }
  if (m.requests >= MIN_REQUESTS && m.hitRate < 0.5) {
    advice.push({ code: 'low-hit-rate', message: `hit rate is ${(m.hitRate * 100).toFixed(1)}%: keys may include volatile data (timestamps, ids) or TTLs are too short.` });
  }
  if (m.staleServed > 0) {
    advice.push({ code: 'stale-served', message: `${m.staleServed} stale values stood in for failed computes: the upstream provider is failing.` });
  }
  if (m.layers.compute.latency.count >= 10 && m.layers.compute.latency.p50Ms > 100 * Math.max(m.layers.l2.latency.p50Ms, 0.1)) {
    advice.push({
      code: 'slow-compute-warm',
      message: `a compute takes ${m.layers.compute.latency.p50Ms.toFixed(0)} ms at p50: warm the most common keys ahead of demand (cache.warmCache).`,
    });
  }
  return advice;
}
