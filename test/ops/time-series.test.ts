/**
 * Samples, the bounded series and SLO windows, as pure logic over readings
 * built here: deltas and SLI events per interval, merges that add up, the
 * fine/coarse selection of a window, the fleet merge, burn rates.
 */
import { describe, expect, it } from 'vitest';
import { emptyLatencyBuckets, latencyBucketIndex } from '../../sdk/index.js';
import { fleetTimeline, fleetWindow } from '../../gateway/ops/fleet-view.js';
import type { ProcessSeries, ProcessStatus } from '../../gateway/ops/fleet-series.js';
import { DEFAULT_OPS_CONFIG } from '../../gateway/ops/ops-config.js';
import type { Reading } from '../../gateway/ops/reading.js';
import { mergeAcrossFleet, mergeOverTime, sampleBetween, type Sample } from '../../gateway/ops/sample.js';
import { evaluateSlos } from '../../gateway/ops/slo.js';
import { COARSE_PERIOD_MS, fineCapacity, TimeSeries } from '../../gateway/ops/time-series.js';

const slos = DEFAULT_OPS_CONFIG.slos;
const MiB = 1048576;

function reading(at: number, over: Partial<Reading> = {}): Reading {
  const layer = { hits: 0, misses: 0, errors: 0 };
  return {
    at, requests: 0, serverErrors: 0, layers: { l1: layer, l2: layer, l3: layer, compute: layer }, lookups: 0, computes: 0, staleServed: 0, evictions: 0,
    providerCalls: {}, providerErrors: 0, latency: { l2: emptyLatencyBuckets(), missAnswer: emptyLatencyBuckets(), answer: emptyLatencyBuckets() },
    cpuMs: 0, bears: 0, rssBytes: 100 * MiB, heapUsedBytes: 0, l1Bytes: 0, l1MaxBytes: 256 * MiB, breakerState: 'closed', l2Configured: true, redisConnected: true, eventLoopP99Ms: 0,
    ...over,
  };
}
const buckets = (...ms: number[]): number[] => {
  const b = emptyLatencyBuckets();
  for (const v of ms) b[latencyBucketIndex(v)]! += 1;
  return b;
};

/** A process serving `rps` requests per second with `badShare` of them failed, for `seconds`, one sample per second. */
function steady(start: number, seconds: number, rps: number, badShare: number, bears = 10): Sample[] {
  const out: Sample[] = [];
  let prev = reading(start);
  for (let i = 1; i <= seconds; i++) {
    const next = reading(start + i * 1000, { requests: i * rps, serverErrors: Math.round(i * rps * badShare), bears });
    out.push(sampleBetween(prev, next, slos));
    prev = next;
  }
  return out;
}

const status = (id: string, intervalMs = 1000): ProcessStatus => ({
  id, host: 'h', pid: 1, startedAt: 0, lastSeenAt: Date.now(), httpUrl: '', intervalMs, firing: [], recent: [], advice: [], memoryLimitBytes: 256 * MiB, l1MaxBytes: 256 * MiB,
});

describe('samples', () => {
  it('are the counter deltas of an interval with each SLO\'s events judged by the targets', () => {
    const a = reading(0, { requests: 10, layers: { l1: { hits: 5, misses: 5, errors: 0 }, l2: { hits: 0, misses: 0, errors: 0 }, l3: { hits: 0, misses: 0, errors: 0 }, compute: { hits: 0, misses: 0, errors: 0 } } });
    const b = reading(2000, {
      requests: 110, serverErrors: 1,
      layers: { l1: { hits: 85, misses: 25, errors: 0 }, l2: { hits: 3, misses: 1, errors: 2 }, l3: { hits: 0, misses: 0, errors: 0 }, compute: { hits: 0, misses: 0, errors: 0 } },
      latency: { l2: buckets(1, 2, 70), missAnswer: buckets(40, 99, 150, 500), answer: buckets(1) },
      rssBytes: 300 * MiB,
    });
    const s = sampleBetween(a, b, slos);
    expect(s).toMatchObject({ t: 2000, dtMs: 2000, requests: 100, serverErrors: 1, processes: 1 });
    expect(s.layers.l1).toEqual({ hits: 80, misses: 20, errors: 0 });
    expect(s.sli.availability).toEqual({ good: 99, valid: 100 });
    expect(s.sli.l1HitRate).toEqual({ good: 80, valid: 100 });
    expect(s.sli.l2Latency).toEqual({ good: 2, valid: 3 });
    expect(s.sli.missRecovery).toEqual({ good: 2, valid: 4 });
    expect(s.sli.memory).toEqual({ good: 0, valid: 2 }); // 300 MB over the 256 MB limit for the whole 2 s
  });

  it('count an L2 down while the breaker is not closed or the Redis connection is lost', () => {
    expect(sampleBetween(reading(0), reading(1000), slos).l2Down).toBe(0);
    expect(sampleBetween(reading(0), reading(1000, { breakerState: 'open' }), slos).l2Down).toBe(1);
    expect(sampleBetween(reading(0), reading(1000, { redisConnected: false }), slos).l2Down).toBe(1);
    // A cache without L2 reports its breaker open: that is not an outage.
    expect(sampleBetween(reading(0, { l2Configured: false }), reading(1000, { l2Configured: false, breakerState: 'open' }), slos).l2Down).toBe(0);
  });

  it('add up over time and across the fleet', () => {
    const one = steady(0, 10, 100, 0.01);
    const overTime = mergeOverTime(one)!;
    expect(overTime).toMatchObject({ requests: 1000, serverErrors: 10, dtMs: 10_000, bears: 10 });
    const fleet = mergeAcrossFleet([overTime, mergeOverTime(steady(0, 10, 50, 0))!])!;
    expect(fleet).toMatchObject({ requests: 1500, serverErrors: 10, bears: 20, processes: 2 });
    expect(fleet.sli.availability).toEqual({ good: 1490, valid: 1500 });
  });
});

describe('the time series', () => {
  it('keeps a bounded fine tier and rolls 5-minute coarse records', () => {
    const series = new TimeSeries(1000);
    const start = Math.ceil(Date.now() / COARSE_PERIOD_MS) * COARSE_PERIOD_MS;
    const samples = steady(start, 2 * 3600, 10, 0);
    let coarse = 0;
    for (const s of samples) if (series.add(s)) coarse++;
    expect(series.fine.length).toBe(fineCapacity(1000));
    expect(coarse).toBe(23); // 24 periods in 2 h, the last still open
    expect(series.coarse.every((c) => c.dtMs <= COARSE_PERIOD_MS)).toBe(true);
    // A 2-hour window reaches past the fine tier: coarse records plus the newer fine samples, each second counted once.
    const end = samples[samples.length - 1]!.t;
    const window = mergeOverTime(series.since(end - 2 * 3600_000))!;
    expect(window.requests).toBe(2 * 3600 * 10);
    expect(mergeOverTime(series.since(end - 60_000))!.requests).toBe(600);
  });
});

describe('SLO windows', () => {
  it('give SLI, compliance and burn rate over the fleet', () => {
    const now = 100_000;
    const a: ProcessSeries = { status: status('a'), fine: steady(now - 60_000, 60, 100, 0.01), coarse: [] };
    const b: ProcessSeries = { status: status('b'), fine: steady(now - 60_000, 60, 100, 0), coarse: [] };
    const [availability] = evaluateSlos(slos, (ms) => fleetWindow([a, b], now - ms, now)).filter((s) => s.name === 'availability');
    const five = availability!.windows[0]!;
    expect(five).toMatchObject({ window: '5m', valid: 12_000, good: 11_940, compliant: false });
    expect(five.burnRate).toBeCloseTo(0.005 / 0.001);
    expect(availability!.budgetRemaining).toBeCloseTo(1 - 5);
  });

  it('bucket the fleet into chart points', () => {
    const now = 100_000;
    const a: ProcessSeries = { status: status('a'), fine: steady(now - 60_000, 60, 100, 0), coarse: [] };
    const b: ProcessSeries = { status: status('b'), fine: steady(now - 30_000, 30, 100, 0), coarse: [] };
    const points = fleetTimeline([a, b], now - 60_000, 10_000);
    expect(points).toHaveLength(6);
    expect(points.map((p) => p.processes)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(points.reduce((n, p) => n + p.requests, 0)).toBe(9000);
  });
});
