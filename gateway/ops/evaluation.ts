/**
 * One evaluation of a process's own series: its SLOs over every window and
 * the health rules' conditions, each window merged once however many rules
 * ask for it. The ops timer runs it after every sample; bench/ops.ts
 * measures it at a full series.
 */
import { evaluateRules, type Condition } from './health-rules.js';
import type { OpsConfig } from './ops-config.js';
import { emptySample, mergeOverTime, type Sample } from './sample.js';
import { evaluateSlos, type SloStatus } from './slo.js';
import type { TimeSeries } from './time-series.js';

export function evaluateSeries(series: TimeSeries, config: OpsConfig, now: number): { slos: SloStatus[]; conditions: Condition[] } {
  const merged = new Map<number, Sample>();
  const window = (ms: number): Sample => {
    let w = merged.get(ms);
    if (!w) merged.set(ms, (w = mergeOverTime(series.since(now - ms)) ?? emptySample(now, ms)));
    return w;
  };
  const slos = evaluateSlos(config.slos, window);
  const conditions = evaluateRules({ config, window, samples: (ms) => series.since(now - ms), latest: series.latest, slos });
  return { slos, conditions };
}
