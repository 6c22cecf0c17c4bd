/**
 * Prometheus metrics of one gateway (its own prom-client registry, so two
 * gateways in one process — tests, benchmarks — do not collide), named by
 * Prometheus conventions so `promtool check metrics` has nothing to say:
 * counters end in `_total`, units are in the names (seconds, bytes), one
 * `teddy_` prefix per name.
 *
 * Counters the SDK keeps (cache hits, misses, errors per layer) are read at
 * scrape time into collect-time counters: the gateway keeps no second count,
 * and they are still real counters (they only grow, and `rate()` works). The
 * request path's counts and durations are plain numbers (./request-stats.ts),
 * likewise read when scraped.
 */
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricType, type MetricValueWithName } from 'prom-client';
import type { PerformanceMetrics } from '../sdk/index.js';
import { registerProcessMetrics } from './process-metrics.js';
import { DURATION_BUCKETS, RequestStats, type DurationCounts } from './request-stats.js';

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

/** `gcMetrics`: also the GC duration histogram, which costs CPU per collection (./process-metrics.ts). */
export function createGatewayMetrics(sources: MetricsSources, { gcMetrics = false }: { gcMetrics?: boolean } = {}) {
  const registry = new Registry();
  registerProcessMetrics(registry, PROCESS_PREFIX, gcMetrics);
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

  // The request path records into plain numbers (./request-stats.ts); these read them at scrape time.
  const stats = new RequestStats();
  new Counter({
    name: 'teddy_gateway_requests_total',
    help: 'Bear requests and events by message type and outcome (ok or an error code name).',
    labelNames: ['type', 'outcome'],
    registers,
    collect() {
      this.reset();
      for (const [type, outcomes] of stats.requests) for (const [outcome, n] of outcomes) this.inc({ type, outcome }, n);
    },
  });
  new Counter({
    name: 'teddy_gateway_answers_total',
    help: 'Answers by the layer that supplied the AI response (provider, l1, l2, ...).',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const [source, n] of stats.answers) this.inc({ source: String(source) }, n);
    },
  });
  new ScrapedHistogram(() => [...stats.durations].map(([type, d]) => [{ type }, d] as const), {
    name: 'teddy_gateway_request_duration_seconds',
    help: 'Time from a request arriving to its response being handed to the bear\'s connection, by message type.',
    labelNames: ['type'],
    registers,
  });
  new ScrapedHistogram(() => [[{}, stats.missAnswers] as const], {
    name: 'teddy_gateway_miss_answer_duration_seconds',
    help: 'Time from an utterance arriving to its answer, for the utterances the cache missed (the provider supplied the reply).',
    labelNames: [],
    registers,
  });

  return {
    registry,
    /** The request path's plain counts (the ops time series reads them too). */
    stats: stats as Readonly<RequestStats>,
    /** One request or event handled, by type and outcome (ok or an error code name). */
    countRequest: (type: string, outcome: string): void => stats.countRequest(type, outcome),
    observeRequestSeconds: (type: string, seconds: number): void => stats.observeSeconds(type, seconds),
    /** One answer, by the AnswerSource of its AI response. */
    countAnswer: (source: number): void => stats.countAnswer(source),
    /** An utterance the cache missed, answered this long after it arrived. */
    observeMissAnswerSeconds: (seconds: number): void => stats.observeMissAnswer(seconds),
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

/**
 * A Prometheus histogram read from plain counts (RequestStats) when scraped: prom-client's
 * Histogram can only be fed one observation at a time (hashing its labels each time), so this
 * one answers `get` from `read()`: each label set with its counts per DURATION_BUCKETS bucket.
 */
class ScrapedHistogram<L extends string> extends Histogram<L> {
  constructor(
    private readonly read: () => Iterable<readonly [Partial<Record<L, string>>, DurationCounts]>,
    private readonly config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] },
  ) {
    super({ ...config, buckets: [...DURATION_BUCKETS] });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<L | 'le'>>> {
    const { name, help } = this.config;
    const values: MetricValueWithName<L | 'le'>[] = [];
    for (const [labels, d] of this.read()) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += d.buckets[i]!;
        values.push({ labels: { le, ...labels } as MetricValueWithName<L | 'le'>['labels'], value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels } as MetricValueWithName<L | 'le'>['labels'], value: d.count, metricName: `${name}_bucket` });
      const own = labels as MetricValueWithName<L | 'le'>['labels'];
      values.push({ labels: own, value: d.sum, metricName: `${name}_sum` });
      values.push({ labels: own, value: d.count, metricName: `${name}_count` });
    }
    // prom-client declares MetricType as an enum its runtime does not export; the value is the string.
    return { name, help, type: 'histogram' as unknown as MetricType, values, aggregator: 'sum', collect: () => undefined };
  }

  // The registry prefers this to `get` when printing the text format.
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<L | 'le'>>> {
    return this.get();
  }
}
