/**
 * The health rules: each turns this process's recent time series into
 * conditions (an alert name, labels, whether it holds now, the value and the
 * threshold it is compared with, a one-line summary). The health monitor
 * (./health-monitor.ts) gives them a lifecycle; docs/ops/alerts.yml states
 * the same rules in PromQL, and docs/operations.md says what to do for each.
 */
import type { OpsConfig, RuleName, Severity } from './ops-config.js';
import type { Sample } from './sample.js';
import type { SloStatus } from './slo.js';

export const ALERT_NAMES = {
  hitRateDrop: 'TeddyL1HitRateDrop',
  l2Errors: 'TeddyL2Errors',
  l2Down: 'TeddyL2Down',
  memoryNearLimit: 'TeddyMemoryNearLimit',
  providerErrors: 'TeddyProviderErrors',
  eventLoopLag: 'TeddyEventLoopLag',
  sloBurnFast: 'TeddySloBurnRateFast',
  sloBurnSlow: 'TeddySloBurnRateSlow',
} as const satisfies Record<RuleName, string>;
export type AlertName = (typeof ALERT_NAMES)[RuleName];

export interface Condition {
  readonly alert: AlertName;
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly forSeconds: number;
  /** Besides the process: what the alert is about (an SLO's name). */
  readonly labels: Readonly<Record<string, string>>;
  readonly holds: boolean;
  readonly value: number;
  readonly threshold: number;
  readonly summary: string;
}

export interface RuleContext {
  readonly config: OpsConfig;
  /** This process's samples of the last `ms`, merged. */
  window(ms: number): Sample;
  /** This process's samples of the last `ms`, oldest first. */
  samples(ms: number): readonly Sample[];
  readonly latest: Sample | undefined;
  readonly slos: readonly SloStatus[];
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const MiB = 1048576;
const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

type Evaluate = (ctx: RuleContext) => Omit<Condition, 'alert' | 'rule' | 'severity' | 'forSeconds'>[];

const RULES: { readonly [R in RuleName]: Evaluate } = {
  hitRateDrop({ config, window }) {
    const r = config.rules.hitRateDrop;
    const now = window(r.windowSeconds * 1000).layers.l1;
    const base = window(r.baselineSeconds * 1000).layers.l1;
    const lookups = now.hits + now.misses;
    const rate = ratio(now.hits, lookups);
    const baseline = ratio(base.hits, base.hits + base.misses);
    const threshold = Math.max(r.floor, baseline - r.maxDrop);
    return [{
      labels: {}, holds: lookups >= r.minLookups && rate < threshold, value: rate, threshold,
      summary: `L1 hit rate ${pct(rate)} over the last ${r.windowSeconds} s (${lookups} lookups), below ${pct(threshold)} (baseline ${pct(baseline)} over ${r.baselineSeconds} s)`,
    }];
  },
  l2Errors({ config, window }) {
    const r = config.rules.l2Errors;
    const errors = window(r.windowSeconds * 1000).layers.l2.errors;
    return [{
      labels: {}, holds: errors > r.maxErrors, value: errors, threshold: r.maxErrors,
      summary: `${errors} failed L2 (Redis) calls in the last ${r.windowSeconds} s (more than ${r.maxErrors} alerts)`,
    }];
  },
  l2Down({ latest }) {
    const down = (latest?.l2Down ?? 0) > 0;
    return [{
      labels: {}, holds: down, value: down ? 1 : 0, threshold: 1,
      summary: down
        ? 'L2 (Redis) is unavailable: the circuit breaker is open or the connection is lost; answers come from L1, L3 and the provider'
        : 'L2 (Redis) is available',
    }];
  },
  memoryNearLimit({ config, latest }) {
    const limitMb = config.slos.memory.maxMb;
    const rssMb = (latest?.rssBytes ?? 0) / MiB;
    const threshold = config.rules.memoryNearLimit.fraction * limitMb;
    return [{
      labels: {}, holds: latest !== undefined && rssMb >= threshold, value: rssMb, threshold,
      summary: `resident memory ${rssMb.toFixed(0)} MB, at or above ${threshold.toFixed(0)} MB (${pct(config.rules.memoryNearLimit.fraction)} of the ${limitMb} MB limit)`,
    }];
  },
  providerErrors({ config, window }) {
    const r = config.rules.providerErrors;
    const w = window(r.windowSeconds * 1000);
    const calls = Object.values(w.providerCalls).reduce((a, b) => a + b, 0);
    const share = ratio(w.providerErrors, calls);
    return [{
      labels: {}, holds: calls >= r.minCalls && share > r.maxErrorRatio, value: share, threshold: r.maxErrorRatio,
      summary: `${w.providerErrors} of ${calls} provider calls failed in the last ${r.windowSeconds} s (${pct(share)}, more than ${pct(r.maxErrorRatio)})`,
    }];
  },
  eventLoopLag({ config, samples }) {
    const r = config.rules.eventLoopLag;
    const worst = Math.max(0, ...samples(r.windowSeconds * 1000).map((s) => s.eventLoopP99Ms));
    return [{
      labels: {}, holds: worst > r.maxLagMs, value: worst, threshold: r.maxLagMs,
      summary: `event-loop delay p99 reached ${worst.toFixed(0)} ms in the last ${r.windowSeconds} s (over ${r.maxLagMs} ms): requests wait that long before they run`,
    }];
  },
  sloBurnFast: ({ config, slos }) => burnConditions(slos, '5m', '1h', config.rules.sloBurnFast),
  sloBurnSlow: ({ config, slos }) => burnConditions(slos, '1h', '24h', config.rules.sloBurnSlow),
};

/** Burning over both windows (the short one says it is still happening, the long one that it matters). */
function burnConditions(slos: readonly SloStatus[], short: string, long: string, r: { burnRate: number; minEvents: number }) {
  return slos.map((slo) => {
    const s = slo.windows.find((w) => w.window === short)!;
    const l = slo.windows.find((w) => w.window === long)!;
    const value = Math.min(s.burnRate ?? 0, l.burnRate ?? 0);
    return {
      labels: { slo: slo.name },
      holds: s.valid >= r.minEvents && value > r.burnRate,
      value,
      threshold: r.burnRate,
      summary: `${slo.target}: error budget burning ${value.toFixed(1)}× (over ${short}: ${(s.burnRate ?? 0).toFixed(1)}×, over ${long}: ${(l.burnRate ?? 0).toFixed(1)}×; alert above ${r.burnRate}×)`,
    };
  });
}

/** Every enabled rule's conditions now. */
export function evaluateRules(ctx: RuleContext): Condition[] {
  const out: Condition[] = [];
  for (const rule of Object.keys(RULES) as RuleName[]) {
    const settings = ctx.config.rules[rule];
    if (!settings.enabled) continue;
    for (const c of RULES[rule](ctx)) out.push({ ...c, alert: ALERT_NAMES[rule], rule, severity: settings.severity, forSeconds: settings.forSeconds });
  }
  return out;
}
