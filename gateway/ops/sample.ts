/**
 * A sample: what one process did during one interval (counter deltas between
 * two readings), its gauges at the end, and each SLO's good and valid events
 * in it, judged by the targets in force. Samples only add up: merging over
 * time (a 5-minute record from 5-second ones) or across processes (a fleet
 * point) is a sum of counts, so a window's SLI over the whole fleet is exact
 * whatever its shape. Gauges merge by their meaning (last over time, summed
 * across the fleet; worst-of for the ones an operator reads as a maximum).
 */
import { combineLatencyBuckets, countAtOrBelow, emptyLatencyBuckets } from '../../sdk/index.js';
import type { SloName, SloTargets } from './ops-config.js';
import { LAYERS, type Counters, type Layer, type LayerCounts, type Reading } from './reading.js';

export interface GoodValid {
  readonly good: number;
  readonly valid: number;
}

/** The counters are the interval's deltas (./reading.ts says what each counts). */
export interface Sample extends Counters {
  /** End of the interval, ms since the epoch, and its length. */
  readonly t: number;
  readonly dtMs: number;
  readonly sli: Readonly<Record<SloName, GoodValid>>;
  // Gauges.
  readonly bears: number;
  readonly rssBytes: number;
  /** The largest single-process RSS seen (over time and across processes). */
  readonly rssMaxBytes: number;
  readonly heapUsedBytes: number;
  readonly l1Bytes: number;
  readonly l1MaxBytes: number;
  readonly eventLoopP99Ms: number;
  /** Processes whose L2 was down (breaker not closed or Redis connection lost) at some point. */
  readonly l2Down: number;
  /** Processes the sample covers. */
  readonly processes: number;
}

const delta = (a: number, b: number): number => Math.max(0, b - a);
const sumRecords = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>, sign: 1 | -1): Record<string, number> => {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(0, (out[k] ?? 0) + sign * v);
  return out;
};
const total = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);

/** What happened between two readings of one process, with each SLO's events judged by `slos`. */
export function sampleBetween(prev: Reading, next: Reading, slos: SloTargets): Sample {
  const dtMs = Math.max(1, next.at - prev.at);
  const layers = {} as Record<Layer, LayerCounts>;
  for (const l of LAYERS) {
    layers[l] = {
      hits: delta(prev.layers[l].hits, next.layers[l].hits),
      misses: delta(prev.layers[l].misses, next.layers[l].misses),
      errors: delta(prev.layers[l].errors, next.layers[l].errors),
    };
  }
  const latency = {
    l2: combineLatencyBuckets(next.latency.l2, prev.latency.l2, -1),
    missAnswer: combineLatencyBuckets(next.latency.missAnswer, prev.latency.missAnswer, -1),
    answer: combineLatencyBuckets(next.latency.answer, prev.latency.answer, -1),
  };
  const requests = delta(prev.requests, next.requests);
  const serverErrors = Math.min(requests, delta(prev.serverErrors, next.serverErrors));
  const seconds = dtMs / 1000;
  const sli: Record<SloName, GoodValid> = {
    l1HitRate: { good: layers.l1.hits, valid: layers.l1.hits + layers.l1.misses },
    l2Latency: { good: countAtOrBelow(latency.l2, slos.l2Latency.thresholdMs), valid: total(latency.l2) },
    memory: { good: next.rssBytes <= slos.memory.maxMb * 1024 * 1024 ? seconds : 0, valid: seconds },
    missRecovery: { good: countAtOrBelow(latency.missAnswer, slos.missRecovery.thresholdMs), valid: total(latency.missAnswer) },
    availability: { good: requests - serverErrors, valid: requests },
  };
  const l2Down = !next.redisConnected || !prev.redisConnected || (next.l2Configured && next.breakerState !== 'closed');
  return {
    t: next.at,
    dtMs,
    requests,
    serverErrors,
    layers,
    lookups: delta(prev.lookups, next.lookups),
    computes: delta(prev.computes, next.computes),
    staleServed: delta(prev.staleServed, next.staleServed),
    evictions: delta(prev.evictions, next.evictions),
    providerCalls: sumRecords(next.providerCalls, prev.providerCalls, -1),
    providerErrors: delta(prev.providerErrors, next.providerErrors),
    latency,
    cpuMs: delta(prev.cpuMs, next.cpuMs),
    sli,
    bears: next.bears,
    rssBytes: next.rssBytes,
    rssMaxBytes: next.rssBytes,
    heapUsedBytes: next.heapUsedBytes,
    l1Bytes: next.l1Bytes,
    l1MaxBytes: next.l1MaxBytes,
    eventLoopP99Ms: next.eventLoopP99Ms,
    l2Down: l2Down ? 1 : 0,
    processes: 1,
  };
}

/** Counts summed; the gauges decided by `gauges`. */
function sumSamples(a: Sample, b: Sample, gauges: Pick<Sample, 'bears' | 'rssBytes' | 'heapUsedBytes' | 'l1Bytes' | 'l1MaxBytes' | 'processes' | 'l2Down'>, t: number, dtMs: number): Sample {
  const layers = {} as Record<Layer, LayerCounts>;
  for (const l of LAYERS) {
    layers[l] = { hits: a.layers[l].hits + b.layers[l].hits, misses: a.layers[l].misses + b.layers[l].misses, errors: a.layers[l].errors + b.layers[l].errors };
  }
  const sli = {} as Record<SloName, GoodValid>;
  for (const name of Object.keys(a.sli) as SloName[]) {
    sli[name] = { good: a.sli[name].good + (b.sli[name]?.good ?? 0), valid: a.sli[name].valid + (b.sli[name]?.valid ?? 0) };
  }
  return {
    t,
    dtMs,
    requests: a.requests + b.requests,
    serverErrors: a.serverErrors + b.serverErrors,
    layers,
    lookups: a.lookups + b.lookups,
    computes: a.computes + b.computes,
    staleServed: a.staleServed + b.staleServed,
    evictions: a.evictions + b.evictions,
    providerCalls: sumRecords(a.providerCalls, b.providerCalls, 1),
    providerErrors: a.providerErrors + b.providerErrors,
    latency: {
      l2: combineLatencyBuckets(a.latency.l2, b.latency.l2),
      missAnswer: combineLatencyBuckets(a.latency.missAnswer, b.latency.missAnswer),
      answer: combineLatencyBuckets(a.latency.answer, b.latency.answer),
    },
    cpuMs: a.cpuMs + b.cpuMs,
    sli,
    ...gauges,
    rssMaxBytes: Math.max(a.rssMaxBytes, b.rssMaxBytes),
    eventLoopP99Ms: Math.max(a.eventLoopP99Ms, b.eventLoopP99Ms),
  };
}

/** Consecutive samples of one process as one: counts summed, gauges as at the end. */
export function mergeOverTime(samples: readonly Sample[]): Sample | undefined {
  if (samples.length === 0) return undefined;
  const first = samples[0]!;
  let start = first.t - first.dtMs;
  return samples.slice(1).reduce((acc, s) => {
    start = Math.min(start, s.t - s.dtMs);
    const t = Math.max(acc.t, s.t);
    const last = s.t >= acc.t ? s : acc;
    return sumSamples(acc, s, {
      bears: last.bears, rssBytes: last.rssBytes, heapUsedBytes: last.heapUsedBytes, l1Bytes: last.l1Bytes, l1MaxBytes: last.l1MaxBytes,
      processes: Math.max(acc.processes, s.processes), l2Down: Math.max(acc.l2Down, s.l2Down),
    }, t, t - start);
  }, first);
}

/** Samples of different processes over the same period as one fleet sample: gauges summed. */
export function mergeAcrossFleet(samples: readonly Sample[]): Sample | undefined {
  if (samples.length === 0) return undefined;
  return samples.slice(1).reduce((acc, s) => sumSamples(acc, s, {
    bears: acc.bears + s.bears, rssBytes: acc.rssBytes + s.rssBytes, heapUsedBytes: acc.heapUsedBytes + s.heapUsedBytes,
    l1Bytes: acc.l1Bytes + s.l1Bytes, l1MaxBytes: acc.l1MaxBytes + s.l1MaxBytes, processes: acc.processes + s.processes, l2Down: acc.l2Down + s.l2Down,
  }, Math.max(acc.t, s.t), Math.max(acc.dtMs, s.dtMs)), samples[0]!);
}

/** A sample of nothing (a window with no data yet). */
export function emptySample(t: number, dtMs: number): Sample {
  const layers = Object.fromEntries(LAYERS.map((l) => [l, { hits: 0, misses: 0, errors: 0 }])) as Record<Layer, LayerCounts>;
  const none = { good: 0, valid: 0 };
  return {
    t, dtMs, requests: 0, serverErrors: 0, layers, lookups: 0, computes: 0, staleServed: 0, evictions: 0, providerCalls: {}, providerErrors: 0,
    latency: { l2: emptyLatencyBuckets(), missAnswer: emptyLatencyBuckets(), answer: emptyLatencyBuckets() }, cpuMs: 0,
    sli: { l1HitRate: none, l2Latency: none, memory: none, missRecovery: none, availability: none },
    bears: 0, rssBytes: 0, rssMaxBytes: 0, heapUsedBytes: 0, l1Bytes: 0, l1MaxBytes: 0, eventLoopP99Ms: 0, l2Down: 0, processes: 0,
  };
}
