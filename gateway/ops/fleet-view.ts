/**
 * The fleet as one series: every process's samples over a window, merged
 * over time per process and then across processes (counts add up, so a
 * window's SLI is the fleet's), and the same bucketed into points for charts
 * and trends. A process that stopped still counts for the windows it served.
 */
import { latencyQuantile } from '../../sdk/index.js';
import type { ProcessSeries } from './fleet-series.js';
import { emptySample, mergeAcrossFleet, mergeOverTime, type Sample } from './sample.js';
import { samplesSince } from './time-series.js';

/** The fleet's samples since `start`, merged into one. */
export function fleetWindow(processes: readonly ProcessSeries[], start: number, now: number): Sample {
  const perProcess = processes.map((p) => mergeOverTime(samplesSince(p.fine, p.coarse, start))).filter((s): s is Sample => s !== undefined);
  return mergeAcrossFleet(perProcess) ?? emptySample(now, now - start);
}

/** The fleet's samples since `start` in buckets of `stepMs`, oldest first; a bucket no process reported in is left out. */
export function fleetTimeline(processes: readonly ProcessSeries[], start: number, stepMs: number): Sample[] {
  const buckets = new Map<number, Sample[]>();
  for (const p of processes) {
    const own = new Map<number, Sample[]>();
    for (const s of samplesSince(p.fine, p.coarse, start)) {
      // Buckets are (b·step, (b+1)·step]: a sample ending on a bucket's end belongs to it.
      const b = Math.ceil(s.t / stepMs) - 1;
      const list = own.get(b);
      if (list) list.push(s);
      else own.set(b, [s]);
    }
    for (const [b, samples] of own) {
      const merged = mergeOverTime(samples)!;
      const list = buckets.get(b);
      if (list) list.push(merged);
      else buckets.set(b, [merged]);
    }
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([b, samples]) => ({ ...mergeAcrossFleet(samples)!, t: (b + 1) * stepMs }));
}

/** One chart point: rates per second over the bucket, hit rates per layer, latency percentiles, gauges. */
export interface TimelinePoint {
  readonly t: number;
  readonly processes: number;
  readonly requestsPerSecond: number;
  readonly serverErrorsPerSecond: number;
  /** Per layer: hits / (hits + misses) of the lookups that reached it; undefined if none did. */
  readonly hitRate: Readonly<Record<'l1' | 'l2' | 'l3', number | undefined>>;
  /** Lookups that had to compute (call the provider). */
  readonly missRate: number | undefined;
  readonly answerP99Ms: number | undefined;
  readonly missAnswerP99Ms: number | undefined;
  readonly l2P99Ms: number | undefined;
  readonly bears: number;
  readonly rssMb: number;
  readonly rssMaxMb: number;
  readonly l1Mb: number;
  readonly providerCallsPerSecond: number;
  readonly eventLoopP99Ms: number;
}

const MiB = 1048576;
const share = (a: number, b: number): number | undefined => (b > 0 ? a / b : undefined);

/** A sample as a chart point; rates are per second of the time the sample covers. */
export function toPoint(s: Sample): TimelinePoint {
  const seconds = Math.max(1, s.dtMs) / 1000;
  const rate = (l: 'l1' | 'l2' | 'l3') => share(s.layers[l].hits, s.layers[l].hits + s.layers[l].misses);
  return {
    t: s.t,
    processes: s.processes,
    requestsPerSecond: s.requests / seconds,
    serverErrorsPerSecond: s.serverErrors / seconds,
    hitRate: { l1: rate('l1'), l2: rate('l2'), l3: rate('l3') },
    missRate: share(s.computes, s.lookups),
    answerP99Ms: latencyQuantile(s.latency.answer, 0.99),
    missAnswerP99Ms: latencyQuantile(s.latency.missAnswer, 0.99),
    l2P99Ms: latencyQuantile(s.latency.l2, 0.99),
    bears: s.bears,
    rssMb: s.rssBytes / MiB,
    rssMaxMb: s.rssMaxBytes / MiB,
    l1Mb: s.l1Bytes / MiB,
    providerCallsPerSecond: Object.values(s.providerCalls).reduce((a, b) => a + b, 0) / seconds,
    eventLoopP99Ms: s.eventLoopP99Ms,
  };
}
