/**
 * One reading of a gateway process: every counter it keeps (the SDK's, the
 * request path's plain counts, the provider's), as totals since start, plus its
 * gauges (bears, memory, L1 size, breaker, event-loop delay). Taken on the
 * sampler's timer and on demand (`top`), never on the request path: it only
 * reads what the request path already counts. Two readings make a sample
 * (./sample.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { emptyLatencyBuckets, type MultiLayerCache } from '../../sdk/index.js';
import type { GatewayMetrics } from '../metrics.js';

export const LAYERS = ['l1', 'l2', 'l3', 'compute'] as const;
export type Layer = (typeof LAYERS)[number];
export interface LayerCounts {
  readonly hits: number;
  readonly misses: number;
  readonly errors: number;
}

/** Outcomes of a bear message that are the gateway's fault (the rest are the bear's, or fine). */
export const SERVER_ERROR_OUTCOMES: ReadonlySet<string> = new Set(['internal', 'upstream']);

/** The counters a reading totals and a sample (./sample.ts) holds the deltas of. */
export interface Counters {
  /** Bear messages handled (requests and events), and those the gateway failed. */
  readonly requests: number;
  readonly serverErrors: number;
  readonly layers: Readonly<Record<Layer, LayerCounts>>;
  /** SDK lookups (every one could have been a provider call) and computes (provider calls made through it). */
  readonly lookups: number;
  readonly computes: number;
  readonly staleServed: number;
  readonly evictions: number;
  readonly providerCalls: Readonly<Record<string, number>>;
  readonly providerErrors: number;
  /** Latency counts in the SDK's fixed buckets: L2 hits, utterances answered by the provider, all utterances. */
  readonly latency: { readonly l2: readonly number[]; readonly missAnswer: readonly number[]; readonly answer: readonly number[] };
  /** CPU time used (user + system), ms. */
  readonly cpuMs: number;
}

export interface Reading extends Counters {
  /** When it was taken, ms since the epoch. */
  readonly at: number;
  readonly bears: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly l1Bytes: number;
  readonly l1MaxBytes: number;
  readonly breakerState: string;
  /** Whether the cache has an L2 at all (its breaker means nothing otherwise). */
  readonly l2Configured: boolean;
  /** false while the gateway's connection to the fleet's Redis (the cache's too) is down. */
  readonly redisConnected: boolean;
  /** Event-loop delay p99 since the sampler last reset it, ms. */
  readonly eventLoopP99Ms: number;
}

export interface ReadingSources {
  readonly cache: MultiLayerCache;
  readonly metrics: GatewayMetrics;
  connectedBears(): number;
  readonly l1MaxBytes: number;
  readonly l2Configured: boolean;
  redisConnected(): boolean;
}

export interface Reader {
  read(): Promise<Reading>;
  /** Starts a new event-loop delay interval (the sampler calls it after each sample). */
  startInterval(): void;
  close(): void;
}

export function createReader(s: ReadingSources): Reader {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  return {
    async read() {
      const m = s.cache.getPerformanceMetrics();
      const { stats } = s.metrics;
      const [calls, callErrors] = await Promise.all([s.metrics.providerCalls.get(), s.metrics.providerErrors.get()]);
      let requests = 0;
      let serverErrors = 0;
      for (const outcomes of stats.requests.values()) {
        for (const [outcome, n] of outcomes) {
          requests += n;
          if (SERVER_ERROR_OUTCOMES.has(outcome)) serverErrors += n;
        }
      }
      const providerCalls: Record<string, number> = {};
      for (const v of calls.values) providerCalls[String(v.labels.op)] = v.value;
      const cpu = process.cpuUsage();
      const layers = {} as Record<Layer, LayerCounts>;
      for (const layer of LAYERS) layers[layer] = { hits: m.layers[layer].hits, misses: m.layers[layer].misses, errors: m.layers[layer].errors };
      return {
        at: Date.now(),
        requests,
        serverErrors,
        layers,
        lookups: m.requests,
        computes: m.computes,
        staleServed: m.staleServed,
        evictions: m.evictions,
        providerCalls,
        providerErrors: callErrors.values.reduce((n, v) => n + v.value, 0),
        latency: {
          l2: m.layers.l2.latencyBuckets,
          // Request durations use the same buckets (../request-stats.ts DURATION_BUCKETS).
          missAnswer: [...stats.missAnswers.buckets],
          answer: [...(stats.durations.get('utterance')?.buckets ?? emptyLatencyBuckets())],
        },
        cpuMs: (cpu.user + cpu.system) / 1000,
        bears: s.connectedBears(),
        rssBytes: process.memoryUsage.rss(),
        heapUsedBytes: process.memoryUsage().heapUsed,
        l1Bytes: m.l1Bytes,
        l1MaxBytes: s.l1MaxBytes,
        breakerState: m.breakerState,
        l2Configured: s.l2Configured,
        redisConnected: s.redisConnected(),
        eventLoopP99Ms: loop.count === 0 ? 0 : loop.percentile(99) / 1e6,
      };
    },
    startInterval: () => loop.reset(),
    close: () => loop.disable(),
  };
}
