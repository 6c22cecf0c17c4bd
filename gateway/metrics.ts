/**
 * Prometheus metrics of one gateway (its own prom-client registry, so two
 * gateways in one process — tests, benchmarks — do not collide).
 * Cache hit counters are read from the SDK's own metrics at scrape time; the
 * gateway keeps no second count of them. The request path's counts and
 * durations are plain numbers (./request-stats.ts), likewise read when scraped.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricType, type MetricValueWithName } from 'prom-client';
import { DURATION_BUCKETS, RequestStats } from './request-stats.js';

export interface LayerCounts {
  readonly layer: string;
  readonly hits: number;
  readonly misses: number;
}

export interface MetricsSources {
  connectedBears(): number;
  cacheLayers(): LayerCounts[];
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

export function createGatewayMetrics(sources: MetricsSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'teddy_gateway_process_' });
  const registers = [registry];

  new Gauge({
    name: 'teddy_gateway_connected_bears',
    help: 'Bears currently connected over MQTT.',
    registers,
    collect() {
      this.set(sources.connectedBears());
    },
  });
  const layerGauge = (name: string, help: string, pick: (l: LayerCounts) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['layer'],
      registers,
      collect() {
        for (const l of sources.cacheLayers()) this.set({ layer: l.layer }, pick(l));
      },
    });
  // Gauges mirroring the SDK's monotonically growing counters (prom-client counters cannot be set).
  layerGauge('teddy_cache_hits', 'Cache hits per layer, as counted by the SDK since start.', (l) => l.hits);
  layerGauge('teddy_cache_misses', 'Cache misses per layer, as counted by the SDK since start.', (l) => l.misses);
  layerGauge('teddy_cache_hit_ratio', 'hits / (hits + misses) per layer since start.', (l) =>
    l.hits + l.misses === 0 ? 0 : l.hits / (l.hits + l.misses),
  );

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
  new ScrapedHistogram(stats, {
    name: 'teddy_gateway_request_duration_seconds',
    help: 'Time from a request arriving to its response being handed to the bear\'s connection, by message type.',
    registers,
  });

  return {
    registry,
    /** One request or event handled, by type and outcome (ok or an error code name). */
    countRequest: (type: string, outcome: string): void => stats.countRequest(type, outcome),
    observeRequestSeconds: (type: string, seconds: number): void => stats.observeSeconds(type, seconds),
    /** One answer, by the AnswerSource of its AI response. */
    countAnswer: (source: number): void => stats.countAnswer(source),
    providerCalls: new Counter({
      name: 'teddy_gateway_provider_calls_total',
      help: 'Calls into the AI provider (cache misses), by operation.',
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
 * A Prometheus histogram read from RequestStats when scraped: prom-client's Histogram can only
 * be fed one observation at a time (hashing its labels each time), so this one answers `get`.
 */
class ScrapedHistogram extends Histogram<'type'> {
  constructor(
    private readonly stats: RequestStats,
    private readonly config: { name: string; help: string; registers: Registry[] },
  ) {
    super({ ...config, labelNames: ['type'], buckets: [...DURATION_BUCKETS] });
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<'type' | 'le'>>> {
    const { name, help } = this.config;
    const values: MetricValueWithName<'type' | 'le'>[] = [];
    for (const [type, d] of this.stats.durations) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, i) => {
        cumulative += d.buckets[i]!;
        values.push({ labels: { le, type }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', type }, value: d.count, metricName: `${name}_bucket` });
      values.push({ labels: { type }, value: d.sum, metricName: `${name}_sum` });
      values.push({ labels: { type }, value: d.count, metricName: `${name}_count` });
    }
    // prom-client declares MetricType as an enum its runtime does not export; the value is the string.
    return { name, help, type: 'histogram' as unknown as MetricType, values, aggregator: 'sum', collect: () => undefined };
  }

  // The registry prefers this to `get` when printing the text format.
  getForPromString(): Promise<MetricObjectWithValues<MetricValueWithName<'type' | 'le'>>> {
    return this.get();
  }
}
