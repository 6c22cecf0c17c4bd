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

  const requests = new Counter({
    name: 'teddy_gateway_requests_total',
    help: 'Bear requests and events by message type and outcome (ok or an error code name).',
    labelNames: ['type', 'outcome'],
    registers,
  });
  const requestSeconds = new Histogram({
    name: 'teddy_gateway_request_duration_seconds',
    help: 'Time from a request arriving to its response being published, by message type.',
    labelNames: ['type'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const answers = new Counter({
    name: 'teddy_gateway_answers_total',
    help: 'Answers by the layer that supplied the AI response (provider, l1, l2, ...).',
    labelNames: ['source'],
    registers,
  });
  // The request path records through label children resolved once per label set: prom-client
  // hashes a label object on every inc/observe otherwise.
  const requestChildren = childrenOf((type: string) => childrenOf((outcome: string) => requests.labels(type, outcome)));
  const durationChildren = childrenOf((type: string) => requestSeconds.labels(type));
  const answerChildren = childrenOf((source: number) => answers.labels(String(source)));

  return {
    registry,
    /** One request or event handled, by type and outcome (ok or an error code name). */
    countRequest(type: string, outcome: string): void {
      requestChildren(type)(outcome).inc();
    },
    observeRequestSeconds(type: string, seconds: number): void {
      durationChildren(type).observe(seconds);
    },
    /** One answer, by the AnswerSource of its AI response. */
    countAnswer(source: number): void {
      answerChildren(source).inc();
    },
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

/** A memo of values made per key, for label children. */
function childrenOf<K, V>(make: (key: K) => V): (key: K) => V {
  const made = new Map<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) made.set(key, (value = make(key)));
    return value;
  };
}
