/**
 * The process families of prom-client's default metrics (CPU, memory, heap
 * spaces, event-loop lag, handles, file descriptors, Node's version), one
 * collector at a time from prom-client's own list, so that the garbage
 * collection histogram is there only when asked for (`--gc-metrics`).
 *
 * Why not by default: prom-client times every collection through a
 * PerformanceObserver, and for each one Node builds a performance entry and
 * calls into JavaScript, ~75 µs of CPU a collection on our 2-core VM (3,000
 * scavenges of an allocation loop took 200–250 ms more CPU with an observer
 * than without). A loaded gateway on its 2 MB semi-spaces scavenges about
 * 350 times a second, and the observer made a cached answer cost 2.0–2.7 µs
 * more CPU, 6–8 % (docs/gateway.md#benchmark). The other families are read
 * at scrape time and cost nothing between scrapes.
 */
import { createRequire } from 'node:module';
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** A collector module of prom-client's (lib/metrics/<name>.js): registers its families. */
type Collector = (registry: Registry, config: { prefix: string; eventLoopMonitoringPrecision: number }) => void;

/** prom-client's name of the GC histogram's collector in `collectDefaultMetrics.metricsList`. */
const GC_COLLECTOR = 'gc';

/**
 * prom-client's default for the event-loop delay histogram's sampling (ms), which
 * `collectDefaultMetrics` sets before calling the collectors.
 */
const EVENT_LOOP_PRECISION_MS = 10;

const requireCollector = createRequire(import.meta.url);

/** Registers the default families under `prefix`; the GC histogram only with `gc`. */
export function registerProcessMetrics(registry: Registry, prefix: string, gc: boolean): void {
  const config = { prefix, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS };
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === GC_COLLECTOR && !gc) continue;
    (requireCollector(`prom-client/lib/metrics/${name}`) as Collector)(registry, config);
  }
}
