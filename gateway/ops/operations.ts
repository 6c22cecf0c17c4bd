/**
 * Operations for one gateway process, wired: every `intervalMs` it reads its
 * counters, appends a sample to its time series, shares it (and its alerts
 * and advice) with the fleet through Redis, and evaluates the health rules,
 * whose alert changes go to the log and the webhook. It serves the live view
 * (`top`), the health probe (`health`) and the fleet report (`report`), and
 * exports the SLO, cost and webhook counters to Prometheus. All of it runs on
 * its own timer: the request path only bumps the counters it always did.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { CacheHealth, MultiLayerCache } from '../../sdk/index.js';
import type { FleetKeys } from '../fleet-keys.js';
import type { FleetRedis } from '../fleet-redis.js';
import { collectedCounter, type GatewayMetrics } from '../metrics.js';
import { createAlertWebhook, type AlertWebhook } from './alert-webhook.js';
import { createFleetSeriesStore, isLive, type ProcessSeries, type ProcessStatus } from './fleet-series.js';
import { createHealthMonitor, type ActiveAlert } from './health-monitor.js';
import { evaluateSeries } from './evaluation.js';
import { SLO_NAMES, type OpsConfig, type SloName } from './ops-config.js';
import { buildReport, type OpsReport } from './ops-report.js';
import { createReader, type Reading } from './reading.js';
import { sampleBetween, type GoodValid, type Sample } from './sample.js';
import type { SloStatus } from './slo.js';
import { fineCapacity, TimeSeries } from './time-series.js';

export interface OperationsOptions {
  readonly cache: MultiLayerCache;
  readonly metrics: GatewayMetrics;
  connectedBears(): number;
  readonly config: OpsConfig;
  readonly intervalMs: number;
  readonly alertWebhook: string | undefined;
  /** The fleet state's Redis connection and key names: the time series is shared through them. */
  readonly fleetRedis: FleetRedis;
  readonly fleetKeys: FleetKeys;
  readonly l1MaxBytes: number;
  /** Whether the cache has an L2 (a breaker to watch). */
  readonly l2Configured: boolean;
  readonly log: Logger;
  httpUrl(): string;
}

/** What `top` shows, once a second. */
export interface LiveView {
  readonly at: number;
  readonly instance: string;
  readonly pid: number;
  readonly httpUrl: string;
  readonly startedAt: number;
  readonly reading: Reading;
  readonly memoryLimitBytes: number;
  /** Firing alerts of every live process. */
  readonly firing: readonly ActiveAlert[];
  readonly fleet: FleetSummary;
}

export interface FleetSummary {
  readonly live: number;
  readonly bears: number;
  readonly requestsPerSecond: number;
  readonly notice?: string;
}

/** What `health` prints: healthy unless a critical alert fires anywhere in the fleet. */
export interface HealthView {
  readonly healthy: boolean;
  readonly status: 'ok' | 'warning' | 'critical';
  readonly checkedAt: string;
  readonly instance: string;
  readonly firing: readonly ActiveAlert[];
  readonly fleet: FleetSummary;
  /** This process's SLOs over 5 minutes and 1 hour. */
  readonly slos: readonly { readonly name: SloName; readonly target: string; readonly window: string; readonly sli: number | undefined; readonly compliant: boolean | undefined }[];
  readonly cache: CacheHealth;
}

export interface Operations {
  readonly instance: string;
  live(): Promise<LiveView>;
  health(): Promise<HealthView>;
  report(): Promise<OpsReport>;
  close(): Promise<void>;
}

const MiB = 1048576;
const ERROR_LOG_EVERY_MS = 60_000;

export async function startOperations(o: OperationsOptions): Promise<Operations> {
  const startedAt = Date.now();
  const host = hostname();
  const instance = `${host}:${process.pid}:${startedAt.toString(36)}`;
  const { config, metrics, log } = o;
  const registers = [metrics.registry];

  const store = createFleetSeriesStore(o.fleetRedis, o.fleetKeys);
  const reader = createReader({
    cache: o.cache, metrics, connectedBears: o.connectedBears, l1MaxBytes: o.l1MaxBytes, l2Configured: o.l2Configured,
    redisConnected: () => store.connected,
  });

  const sent = new Counter({ name: 'teddy_gateway_alert_webhook_sent_total', help: 'Alert changes the webhook accepted.', registers });
  const dropped = new Counter({
    name: 'teddy_gateway_alert_webhook_dropped_total',
    help: 'Alert changes not delivered to the webhook, by reason (queue_full, retries_exhausted, shutdown).',
    labelNames: ['reason'], registers,
  });
  const webhook: AlertWebhook | undefined = o.alertWebhook
    ? createAlertWebhook({
      url: o.alertWebhook, log,
      queueSize: config.alerting.webhookQueueSize, maxAttempts: config.alerting.webhookMaxAttempts,
      backoffMs: config.alerting.webhookBackoffMs, timeoutMs: config.alerting.webhookTimeoutMs,
      onSent: () => sent.inc(), onDropped: (reason) => dropped.inc({ reason }),
    })
    : undefined;
  const monitor = createHealthMonitor({ instance, log, notify: (n) => webhook?.send(n) });

  const series = new TimeSeries(o.intervalMs);
  const fineMax = fineCapacity(o.intervalMs);
  const totals = Object.fromEntries(SLO_NAMES.map((n) => [n, { good: 0, valid: 0 }])) as Record<SloName, GoodValid>;
  let localSlos: SloStatus[] = [];

  // Prometheus: the SLOs' events as the health monitor counts them, so alerts.yml computes the same burn rates.
  collectedCounter(metrics.registry, 'teddy_slo_events_total', 'Events each SLO judges (messages, lookups, L2 reads, misses answered, seconds of memory), as sampled.', ['slo'],
    () => SLO_NAMES.map((n) => [{ slo: n }, totals[n].valid] as const));
  collectedCounter(metrics.registry, 'teddy_slo_good_events_total', 'Events that met their SLO\'s target, as sampled.', ['slo'],
    () => SLO_NAMES.map((n) => [{ slo: n }, totals[n].good] as const));
  new Gauge({
    name: 'teddy_slo_objective_ratio', help: 'Share of events each SLO requires to be good.', labelNames: ['slo'], registers,
    collect() {
      for (const n of SLO_NAMES) this.set({ slo: n }, config.slos[n].objective);
    },
  });
  new Gauge({
    name: 'teddy_gateway_memory_limit_bytes', help: 'The memory SLO\'s limit for one gateway process (resident memory).', registers,
    collect() {
      this.set(config.slos.memory.maxMb * MiB);
    },
  });
  new Gauge({
    name: 'teddy_gateway_redis_connected', help: '1 while the gateway\'s connection to the fleet\'s Redis (fleet state, time series) is up.', registers,
    collect() {
      this.set(store.connected ? 1 : 0);
    },
  });
  const cost = (pick: (calls: number, lookups: number, computes: number) => number) => async (): Promise<[{ currency: string }, number][]> => {
    const calls = (await metrics.providerCalls.get()).values.reduce((n, v) => n + v.value, 0);
    const m = o.cache.getPerformanceMetrics();
    return [[{ currency: config.cost.currency }, pick(calls, m.requests, m.computes) * config.cost.pricePerCall]];
  };
  new Counter({
    name: 'teddy_gateway_provider_cost_total', help: 'Provider calls × the configured price per call.', labelNames: ['currency'], registers,
    async collect() {
      this.reset();
      for (const [labels, v] of await cost((calls) => calls)()) this.inc(labels, v);
    },
  });
  new Counter({
    name: 'teddy_gateway_provider_cost_avoided_total', help: 'Provider calls the cache avoided (lookups that did not compute) × the price per call.', labelNames: ['currency'], registers,
    async collect() {
      this.reset();
      for (const [labels, v] of await cost((_c, lookups, computes) => Math.max(0, lookups - computes))()) this.inc(labels, v);
    },
  });

  const status = (now: number, stoppedAt?: number): ProcessStatus => ({
    id: instance, host, pid: process.pid, startedAt, lastSeenAt: now, httpUrl: o.httpUrl(), intervalMs: o.intervalMs,
    firing: monitor.firing(), recent: monitor.recent(), advice: o.cache.advise(),
    memoryLimitBytes: config.slos.memory.maxMb * MiB, l1MaxBytes: o.l1MaxBytes,
    ...(stoppedAt !== undefined ? { stoppedAt } : {}),
  });
  const self = (now: number): ProcessSeries => ({ status: status(now), fine: series.fine, coarse: series.coarse });

  let lastPublishError = 0;
  const publish = (p: Promise<unknown>): void => {
    p.catch((err: unknown) => {
      if (Date.now() - lastPublishError < ERROR_LOG_EVERY_MS) return;
      lastPublishError = Date.now();
      log.warn({ err: (err as Error).message }, 'ops: could not share the time series through Redis; kept locally, retried next sample');
    });
  };

  let previous = await reader.read();
  reader.startInterval();
  let ticking = false;
  const tick = async (): Promise<void> => {
    if (ticking) return;
    ticking = true;
    try {
      const reading = await reader.read();
      reader.startInterval();
      const sample = sampleBetween(previous, reading, config.slos);
      previous = reading;
      for (const n of SLO_NAMES) {
        totals[n] = { good: totals[n].good + sample.sli[n].good, valid: totals[n].valid + sample.sli[n].valid };
      }
      const coarse = series.add(sample);
      const now = reading.at;
      const evaluated = evaluateSeries(series, config, now);
      localSlos = evaluated.slos;
      monitor.evaluate(evaluated.conditions, now);
      publish(store.publish(sample, coarse, status(now), fineMax));
    } catch (err) {
      log.error({ err }, 'ops: sampling failed');
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs);
  timer.unref();

  /** Live processes' statuses and newest samples; this process from memory. */
  const fleetLatest = async (now: number): Promise<{ processes: { status: ProcessStatus; latest: Sample | undefined }[]; notice?: string }> => {
    const mine = { status: status(now), latest: series.latest };
    try {
      const others = (await store.readLatest()).filter((p) => p.status.id !== instance && isLive(p.status, now));
      return { processes: [mine, ...others] };
    } catch (err) {
      return { processes: [mine], notice: `fleet data unavailable (${(err as Error).message}): this process only` };
    }
  };
  const summary = (processes: readonly { status: ProcessStatus; latest: Sample | undefined }[], notice?: string): FleetSummary => ({
    live: processes.length,
    bears: processes.reduce((n, p) => n + (p.latest?.bears ?? 0), 0),
    requestsPerSecond: processes.reduce((n, p) => n + (p.latest ? (p.latest.requests * 1000) / p.latest.dtMs : 0), 0),
    ...(notice ? { notice } : {}),
  });

  return {
    instance,
    async live() {
      const now = Date.now();
      const [reading, fleet] = await Promise.all([reader.read(), fleetLatest(now)]);
      return {
        at: now, instance, pid: process.pid, httpUrl: o.httpUrl(), startedAt, reading, memoryLimitBytes: config.slos.memory.maxMb * MiB,
        firing: fleet.processes.flatMap((p) => p.status.firing),
        fleet: summary(fleet.processes, fleet.notice),
      };
    },
    async health() {
      const now = Date.now();
      const [fleet, cache] = await Promise.all([fleetLatest(now), o.cache.health()]);
      const firing = fleet.processes.flatMap((p) => p.status.firing);
      const worst = firing.some((a) => a.severity === 'critical') ? 'critical' : firing.length > 0 ? 'warning' : 'ok';
      return {
        healthy: worst !== 'critical',
        status: worst,
        checkedAt: new Date(now).toISOString(),
        instance,
        firing,
        fleet: summary(fleet.processes, fleet.notice),
        slos: localSlos.flatMap((s) => s.windows.filter((w) => w.window !== '24h').map((w) => ({ name: s.name, target: s.target, window: w.window, sli: w.sli, compliant: w.compliant }))),
        cache,
      };
    },
    async report() {
      const now = Date.now();
      let processes: ProcessSeries[] = [self(now)];
      let notice: string | undefined;
      try {
        processes = [self(now), ...(await store.readAll()).filter((p) => p.status.id !== instance)];
      } catch (err) {
        notice = `fleet data unavailable (${(err as Error).message}): this report covers this process only`;
      }
      return buildReport({ processes, config, source: { instance, httpUrl: o.httpUrl() }, notice, now });
    },
    async close() {
      clearInterval(timer);
      reader.close();
      await store.markStopped(status(Date.now(), Date.now())).catch(() => undefined);
      await webhook?.close();
    },
  };
}
