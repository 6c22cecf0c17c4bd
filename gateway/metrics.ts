/**
 * Prometheus metrics of one gateway (its own prom-client registry, so two
 * gateways in one process — tests, benchmarks — do not collide).
 * Cache hit counters are read from the SDK's own metrics at scrape time; the
 * gateway keeps no second count of them.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
      help: 'Time from a request arriving to its response being published, by message type.',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
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
