/**
 * SLOs over rolling windows. Each SLO is a share of good events (an L1
 * lookup that hit, an L2 read within 50 ms, a second under the memory limit,
 * a miss answered within 100 ms, a message not failed by the gateway) that
 * must reach its objective. Over a window: the SLI (good / valid), whether it
 * meets the objective, the burn rate (bad share / allowed bad share: 1 spends
 * the error budget exactly over the SLO period, 14.4 spends 2 % of a 30-day
 * budget in an hour) and the figure the target names (a p99, a hit rate, a
 * peak RSS).
 */
import { latencyQuantile } from '../../sdk/index.js';
import type { SloName, SloTargets } from './ops-config.js';
import type { Sample } from './sample.js';

export const SLO_WINDOWS = [
  { name: '5m', ms: 5 * 60_000 },
  { name: '1h', ms: 3_600_000 },
  { name: '24h', ms: 86_400_000 },
] as const;
export type WindowName = (typeof SLO_WINDOWS)[number]['name'];

export interface SloWindowStatus {
  readonly window: WindowName;
  readonly good: number;
  readonly valid: number;
  /** good / valid; undefined with no events in the window. */
  readonly sli: number | undefined;
  readonly compliant: boolean | undefined;
  readonly burnRate: number | undefined;
  /** The figure the target is stated in (unit in SloStatus.unit). */
  readonly measured: number | undefined;
}

export interface SloStatus {
  readonly name: SloName;
  /** The target as an operator reads it, e.g. "L2 latency p99 < 50 ms". */
  readonly target: string;
  readonly objective: number;
  readonly unit: 'ratio' | 'ms' | 'MiB';
  readonly windows: readonly SloWindowStatus[];
  /** Share of the 24 h error budget left (negative: overspent); undefined with no events. */
  readonly budgetRemaining: number | undefined;
}

const pct = (x: number): string => `${+(x * 100).toFixed(3)} %`;

/** How each SLO is stated, and the figure its target names, from a window's merged sample. */
const DESCRIBE: Record<SloName, (t: SloTargets) => { target: string; unit: SloStatus['unit']; measured: (s: Sample, sli: number | undefined) => number | undefined }> = {
  l1HitRate: (t) => ({ target: `L1 hit rate > ${pct(t.l1HitRate.objective)}`, unit: 'ratio', measured: (_s, sli) => sli }),
  l2Latency: (t) => ({
    target: `L2 latency p${+(t.l2Latency.objective * 100).toFixed(2)} < ${t.l2Latency.thresholdMs} ms`, unit: 'ms',
    measured: (s) => latencyQuantile(s.latency.l2, t.l2Latency.objective),
  }),
  memory: (t) => ({
    target: `gateway memory < ${t.memory.maxMb} MB (${pct(t.memory.objective)} of the time)`, unit: 'MiB',
    measured: (s) => (s.rssMaxBytes > 0 ? s.rssMaxBytes / 1048576 : undefined),
  }),
  missRecovery: (t) => ({
    target: `miss answered p${+(t.missRecovery.objective * 100).toFixed(2)} < ${t.missRecovery.thresholdMs} ms`, unit: 'ms',
    measured: (s) => latencyQuantile(s.latency.missAnswer, t.missRecovery.objective),
  }),
  availability: (t) => ({ target: `availability > ${pct(t.availability.objective)}`, unit: 'ratio', measured: (_s, sli) => sli }),
};

export function burnRate(good: number, valid: number, objective: number): number | undefined {
  return valid > 0 ? (1 - good / valid) / (1 - objective) : undefined;
}

/** Every SLO over every window; `windowSample(ms)` merges the samples of the last `ms`. */
export function evaluateSlos(targets: SloTargets, windowSample: (ms: number) => Sample): SloStatus[] {
  const windows = SLO_WINDOWS.map((w) => ({ name: w.name, sample: windowSample(w.ms) }));
  return (Object.keys(DESCRIBE) as SloName[]).map((name) => {
    const { target, unit, measured } = DESCRIBE[name](targets);
    const objective = targets[name].objective;
    const statuses = windows.map(({ name: window, sample }): SloWindowStatus => {
      const { good, valid } = sample.sli[name];
      const sli = valid > 0 ? good / valid : undefined;
      return { window, good, valid, sli, compliant: sli === undefined ? undefined : sli >= objective, burnRate: burnRate(good, valid, objective), measured: measured(sample, sli) };
    });
    const day = statuses[statuses.length - 1]!;
    return { name, target, objective, unit, windows: statuses, budgetRemaining: day.burnRate === undefined ? undefined : 1 - day.burnRate };
  });
}
