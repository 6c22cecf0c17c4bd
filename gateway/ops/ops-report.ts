/**
 * The operations report of a running fleet, as data: SLO compliance over
 * each window, firing and recent alerts, recommendations with their
 * evidence, trends and forecasts, capacity, provider cost, and chart series
 * for the last hour and day. `report` writes it as JSON and renders it as
 * HTML (./report-html.ts); /admin/ops/report serves it.
 */
import type { AlertNotice } from './alert-webhook.js';
import { planCapacity, type Capacity } from './capacity.js';
import { isLive, type ProcessSeries } from './fleet-series.js';
import { fleetTimeline, fleetWindow, toPoint, type TimelinePoint } from './fleet-view.js';
import type { ActiveAlert } from './health-monitor.js';
import type { OpsConfig, SloTargets } from './ops-config.js';
import { providerCost, type ProviderCost } from './provider-cost.js';
import { recommend, type Recommendation } from './recommendations.js';
import { evaluateSlos, type SloStatus } from './slo.js';
import { trendOf, type Trend, type TrendInput } from './trends.js';

export interface FleetProcess {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly httpUrl: string;
  readonly startedAt: string;
  readonly lastSeenAt: string;
  readonly stoppedAt?: string;
  readonly live: boolean;
}

export interface ChartSeries {
  readonly stepMs: number;
  readonly points: readonly TimelinePoint[];
}

export interface OpsReport {
  readonly generatedAt: string;
  /** The process that built the report. */
  readonly source: { readonly instance: string; readonly httpUrl: string };
  readonly fleet: { readonly processes: readonly FleetProcess[]; readonly live: number; readonly notice?: string };
  readonly slos: readonly SloStatus[];
  readonly alerts: { readonly firing: readonly ActiveAlert[]; readonly recent: readonly AlertNotice[] };
  readonly recommendations: readonly Recommendation[];
  readonly trends: readonly Trend[];
  readonly capacity: Capacity;
  readonly cost: ProviderCost;
  readonly charts: { readonly lastHour: ChartSeries; readonly lastDay: ChartSeries };
  readonly config: { readonly slos: SloTargets; readonly cost: OpsConfig['cost'] };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MiB = 1048576;
const RECENT_ALERTS = 50;

export interface ReportInputs {
  readonly processes: readonly ProcessSeries[];
  readonly config: OpsConfig;
  readonly source: { readonly instance: string; readonly httpUrl: string };
  /** Why the fleet may be incomplete (Redis unreachable), if it may. */
  readonly notice?: string;
  readonly now: number;
}

export function buildReport({ processes, config, source, notice, now }: ReportInputs): OpsReport {
  const slos = evaluateSlos(config.slos, (ms) => fleetWindow(processes, now - ms, now));
  const hour = fleetWindow(processes, now - HOUR, now);
  const day = fleetWindow(processes, now - DAY, now);
  // Chart steps: at most about 360 points over the data there is (a young fleet gets fine steps too),
  // and two intervals at least, so every live process has a sample in every step (gauges sum right).
  const maxInterval = 2 * Math.max(...processes.map((p) => p.status.intervalMs));
  const oldest = Math.min(now, ...processes.flatMap((p) => [p.fine[0], p.coarse[0]]).filter((s) => s !== undefined).map((s) => s.t - s.dtMs));
  const stepFor = (windowMs: number) => Math.max(maxInterval, Math.ceil(Math.min(windowMs, now - oldest) / 360));
  const hourStep = stepFor(HOUR);
  const dayStep = stepFor(DAY);
  const hourSamples = fleetTimeline(processes, now - HOUR, hourStep);
  const daySamples = fleetTimeline(processes, now - DAY, dayStep);
  const capacity = planCapacity(hour, daySamples.length >= 3 ? daySamples : hourSamples, config.slos.memory.maxMb);
  const lastHour = { stepMs: hourStep, points: hourSamples.map(toPoint) };
  const lastDay = { stepMs: dayStep, points: daySamples.map(toPoint) };

  // The day's points when they span half an hour, else the hour's: a slope needs a spread.
  const trendPoints = lastDay.points.length >= 3 && lastDay.points[lastDay.points.length - 1]!.t - lastDay.points[0]!.t >= HOUR / 2 ? lastDay.points : lastHour.points;
  const series = (pick: (p: TimelinePoint) => number | undefined): [number, number][] =>
    trendPoints.flatMap((p) => {
      const v = pick(p);
      return v === undefined || !Number.isFinite(v) ? [] : [[p.t, v] as [number, number]];
    });
  const l1MaxMb = processes.length > 0 ? processes[0]!.status.l1MaxBytes / MiB : 0;
  const inputs: TrendInput[] = [
    { metric: 'gateway memory (largest process)', unit: 'MB', points: series((p) => p.rssMaxMb), limit: { value: config.slos.memory.maxMb, name: 'the memory limit', direction: 'above' } },
    {
      metric: 'L1 size per process', unit: 'MB', points: series((p) => (p.processes > 0 ? p.l1Mb / p.processes : undefined)),
      ...(l1MaxMb > 0 ? { limit: { value: l1MaxMb, name: 'l1MaxSizeMb', direction: 'above' as const } } : {}),
    },
    { metric: 'L1 hit rate', unit: 'ratio', points: series((p) => p.hitRate.l1), limit: { value: config.slos.l1HitRate.objective, name: 'its SLO objective', direction: 'below' } },
    {
      metric: 'connected bears', unit: 'bears', points: series((p) => p.bears),
      ...(capacity.perProcess.maxBears ? { limit: { value: capacity.perProcess.maxBears * capacity.processes, name: 'the fleet\'s measured capacity', direction: 'above' as const } } : {}),
    },
    { metric: 'requests per second', unit: 'req/s', points: series((p) => p.requestsPerSecond) },
  ];
  const trends = inputs.map((t) => trendOf(t, now)).filter((t): t is Trend => t !== undefined);

  const live = processes.filter((p) => isLive(p.status, now));
  const firing = live.flatMap((p) => p.status.firing);
  const recent = processes.flatMap((p) => p.status.recent)
    .sort((a, b) => Date.parse(b.endsAt ?? b.startsAt) - Date.parse(a.endsAt ?? a.startsAt))
    .slice(0, RECENT_ALERTS);
  const recommendations = recommend({
    slos, trends, capacity, hour, now,
    advice: live.map((p) => ({ instance: p.status.id, advice: p.status.advice })),
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    generatedAt: iso(now),
    source,
    fleet: {
      processes: processes.map(({ status: s }) => ({
        id: s.id, host: s.host, pid: s.pid, httpUrl: s.httpUrl, startedAt: iso(s.startedAt), lastSeenAt: iso(s.lastSeenAt),
        ...(s.stoppedAt !== undefined ? { stoppedAt: iso(s.stoppedAt) } : {}), live: isLive(s, now),
      })),
      live: live.length,
      ...(notice ? { notice } : {}),
    },
    slos,
    alerts: { firing, recent },
    recommendations,
    trends,
    capacity,
    cost: providerCost(day, config.cost),
    charts: { lastHour, lastDay },
    config: { slos: config.slos, cost: config.cost },
  };
}
