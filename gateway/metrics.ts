/**
 * Prometheus metrics of one gateway (its own prom-client registry, so two
 * gateways in one process — tests, benchmarks — do not collide), named by
 * Prometheus conventions so `promtool check metrics` has nothing to say:
 * counters end in `_total`, units are in the names (seconds, bytes), one
 * `teddy_` prefix per name.
 *
 * Counters the SDK keeps (cache hits, misses, errors per layer) are read at
 * scrape time into collect-time counters: the gateway keeps no second count,
 * and they are still real counters (they only grow, and `rate()` works).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LATENCY_BUCKET_BOUNDS_MS, type PerformanceMetrics } from '../sdk/index.js';

export interface MetricsSources {
  connectedBears(): number;
  /** The SDK's metrics snapshot (counters since the cache started). */
  cache(): PerformanceMetrics;
}

/**
 * prom-client's default metrics include three gauges named `…_total` (active handles, requests,
 * resources counted with unref'd ones), which Prometheus reserves for counters; the same
 * numbers without the suffix stay.
 */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const PROCESS_PREFIX = 'teddy_gateway_';

/** Request latency buckets in seconds: the SDK's fixed latency buckets, so both sum and compare alike. */
const REQUEST_SECONDS_BUCKETS = LATENCY_BUCKET_BOUNDS_MS.map((ms) => ms / 1000);

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** A counter whose value lives elsewhere and only grows: set from `read()` at each scrape. */
export function collectedCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<readonly [Partial<Record<L, string>>, number]>,
): Counter<L> {
  return new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

export function createGatewayMetrics(sources: MetricsSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PROCESS_PREFIX });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(PROCESS_PREFIX + name);
  const registers = [registry];

  new Gauge({
    name: 'teddy_gateway_connected_bears',
    help: 'Bears currently connected over MQTT.',
    registers,
    collect() {
      this.set(sources.connectedBears());
    },
  });

  // One SDK snapshot per scrape, shared by the cache families below: a scrape collects every
  // family synchronously, so the snapshot is dropped once the current job is done.
  let snapshot: PerformanceMetrics | undefined;
  const cache = (): PerformanceMetrics => {
    if (snapshot === undefined) queueMicrotask(() => (snapshot = undefined));
    return (snapshot ??= sources.cache());
  };
  const perLayer = (pick: (l: PerformanceMetrics['layers']['l1']) => number) => () =>
    Object.entries(cache().layers).map(([layer, m]) => [{ layer }, pick(m)] as const);
  collectedCounter(registry, 'teddy_cache_hits_total', 'Cache hits per layer, as counted by the SDK.', ['layer'], perLayer((l) => l.hits));
  collectedCounter(registry, 'teddy_cache_misses_total', 'Cache misses per layer, as counted by the SDK.', ['layer'], perLayer((l) => l.misses));
  collectedCounter(registry, 'teddy_cache_errors_total', 'Failed cache operations per layer (L2: Redis errors, timeouts, calls refused by the open breaker).', ['layer'], perLayer((l) => l.errors));
  new Gauge({
    name: 'teddy_cache_l1_bytes',
    help: 'Encoded bytes of the values held in L1.',
    registers,
    collect() {
      this.set(cache().l1Bytes);
    },
  });
  new Gauge({
    name: 'teddy_cache_l1_entries',
    help: 'Entries held in L1.',
    registers,
    collect() {
      this.set(cache().l1Entries);
    },
  });
  new Gauge({
    name: 'teddy_cache_l2_breaker_state',
    help: 'The L2 circuit breaker: 1 for the state it is in (closed, open, half-open), 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const state = cache().breakerState;
      for (const s of ['closed', 'open', 'half-open']) this.set({ state: s }, s === state ? 1 : 0);
    },
  });

  return {
    registry,
    requests: new Counter({
      name: 'teddy_gateway_requests_total',
      help: 'Bear requests and events by message type and outcome (ok or an error code name).',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'teddy_gateway_request_duration_seconds',
      help: 'Time from a request arriving to its response being published, by message type and, for utterances, whether the cache answered (hit) or the provider (miss).',
      labelNames: ['type', 'cache'],
      buckets: REQUEST_SECONDS_BUCKETS,
      registers,
    }),
    answers: new Counter({
      name: 'teddy_gateway_answers_total',
      help: 'Answers by the layer that supplied the AI response (provider, l1, l2, ...).',
      labelNames: ['source'],
      registers,
    }),
    providerCalls: new Counter({
      name: 'teddy_gateway_provider_calls_total',
      help: 'Calls into the AI provider (cache misses), by operation.',
      labelNames: ['op'],
      registers,
    }),
    providerErrors: new Counter({
      name: 'teddy_gateway_provider_errors_total',
      help: 'Provider calls that failed, by operation.',
      labelNames: ['op'],
      registers,
    }),
    authFailures: new Counter({
      name: 'teddy_gateway_auth_failures_total',
      help: 'Refused MQTT connects by reason.',
      labelNames: ['reason'],
      registers,
    }),
    connectionsRefused: new Counter({
      name: 'teddy_gateway_connections_refused_total',
      help: 'MQTT connections closed before authentication: over the per-address rate, or a packet over its bound.',
      labelNames: ['reason'],
      registers,
    }),
    aclDenials: new Counter({
      name: 'teddy_gateway_acl_denials_total',
      help: 'Publishes and subscribes refused because the topic is not the bear\'s own.',
      labelNames: ['action'],
      registers,
    }),
    warmPushes: new Counter({
      name: 'teddy_gateway_warm_pushes_total',
      help: 'Warm manifests published to bears.',
      registers,
    }),
    originRequests: new Counter({
      name: 'teddy_origin_requests_total',
      help: 'HTTP origin requests by status code.',
      labelNames: ['status'],
      registers,
    }),
  };
}
