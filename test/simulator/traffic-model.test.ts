import { describe, expect, it } from 'vitest';
import { createRng } from '../../simulator/rng.js';
import { createZipf } from '../../simulator/zipf.js';
import { bedtimeIntensity, DEFAULT_TRAFFIC, generateTrace, utteranceCount, type TrafficConfig } from '../../simulator/traffic-model.js';

const config = (over: Partial<TrafficConfig> = {}): TrafficConfig => ({
  ...DEFAULT_TRAFFIC,
  bears: 200,
  durationMs: 60_000,
  seed: 42,
  phrases: 40,
  ...over,
});

/** A binomial count within 4 standard errors of its expectation (fixed seed: cannot flake). */
function expectNear(count: number, draws: number, p: number): void {
  expect(Math.abs(count / draws - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / draws));
}

describe('rng', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => rng.next());
    };
    const a = createRng(7);
    const b = createRng(7);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('draws exponentials with the requested mean', () => {
    const rng = createRng(3);
    const n = 50_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rng.exponential(4000);
    expect(sum / n).toBeGreaterThan(3900);
    expect(sum / n).toBeLessThan(4100);
  });
});

describe('zipf', () => {
  it('has a normalized, decreasing analytic distribution', () => {
    const z = createZipf(30, 1.1);
    expect(z.pmf.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let i = 1; i < z.n; i++) expect(z.pmf[i]!).toBeLessThan(z.pmf[i - 1]!);
    expect(z.pmf[0]! / z.pmf[1]!).toBeCloseTo(2 ** 1.1, 10);
  });

  it.each([0.8, 1.1, 1.4])('sampled frequencies match the analytic distribution (skew %s, chi-square)', (skew) => {
    const n = 40;
    const z = createZipf(n, skew);
    const rng = createRng(42);
    const draws = 200_000;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) counts[z.sample(rng)]!++;
    const chi2 = counts.reduce((acc, c, i) => {
      const expected = z.pmf[i]! * draws;
      return acc + (c - expected) ** 2 / expected;
    }, 0);
    // Critical value of chi-square with 39 degrees of freedom at p = 0.001.
    expect(chi2).toBeLessThan(72.05);
    // And each of the head ranks, where the cache's hits come from, within 4 standard errors.
    for (let i = 0; i < 5; i++) expectNear(counts[i]!, draws, z.pmf[i]!);
  });

  it('rejects nonsense parameters', () => {
    expect(() => createZipf(0, 1)).toThrow(RangeError);
    expect(() => createZipf(10, -1)).toThrow(RangeError);
  });
});

describe('traffic model', () => {
  it('same seed, same trace; another seed, another trace', () => {
    const a = generateTrace(config());
    expect(generateTrace(config())).toEqual(a);
    expect(generateTrace(config({ seed: 43 })).bears).not.toEqual(a.bears);
  });

  it('keeps each bear in time order inside the traffic phase, ranks inside the phrasebook', () => {
    const trace = generateTrace(config());
    expect(trace.bears).toHaveLength(200);
    for (const bear of trace.bears) {
      for (let i = 0; i < bear.length; i++) {
        const u = bear[i]!;
        expect(u.atMs).toBeGreaterThanOrEqual(0);
        expect(u.atMs).toBeLessThan(60_000);
        expect(u.rank).toBeGreaterThanOrEqual(0);
        expect(u.rank).toBeLessThan(40);
        if (i > 0) expect(u.atMs).toBeGreaterThanOrEqual(bear[i - 1]!.atMs);
      }
    }
  });

  it('peaks at bedtime: the busiest tenth of the run is near 19:45, not at the start', () => {
    expect(bedtimeIntensity(0.6875)).toBeCloseTo(1, 6);
    expect(bedtimeIntensity(0)).toBeLessThan(0.25);
    const trace = generateTrace(config({ bears: 2000 }));
    const tenths = new Array<number>(10).fill(0);
    for (const bear of trace.bears) for (const u of bear) tenths[Math.floor(u.atMs / 6000)]!++;
    const busiest = tenths.indexOf(Math.max(...tenths));
    expect(busiest).toBeGreaterThanOrEqual(5);
    expect(busiest).toBeLessThanOrEqual(8);
    expect(tenths[busiest]!).toBeGreaterThan(2 * tenths[0]!);
  });

  it('sessions average the configured number of utterances', () => {
    // No silences inside the run except the first: count utterances per session via gaps.
    const trace = generateTrace(config({ bears: 3000, meanSilenceMs: 20_000, meanThinkMs: 10, meanUtterances: 5 }));
    let sessions = 0;
    for (const bear of trace.bears) bear.forEach((u, i) => { if (i === 0 || u.atMs - bear[i - 1]!.atMs > 1000) sessions++; });
    expect(utteranceCount(trace) / sessions).toBeGreaterThan(4.6);
    expect(utteranceCount(trace) / sessions).toBeLessThan(5.4);
  });

  it('phrase choice over the whole trace follows the Zipf head', () => {
    const trace = generateTrace(config({ bears: 2000 }));
    const z = createZipf(40, 1.1);
    const counts = new Array<number>(40).fill(0);
    for (const bear of trace.bears) for (const u of bear) counts[u.rank]!++;
    const total = utteranceCount(trace);
    expect(total).toBeGreaterThan(3000);
    for (let i = 0; i < 3; i++) expectNear(counts[i]!, total, z.pmf[i]!);
  });

  it('schedules storms and warm pushes, dropping the requested fraction of bears', () => {
    const trace = generateTrace(config({ bears: 1000, storms: [{ kind: 'drop', at: 0.5, fraction: 0.3 }, { kind: 'restart', at: 0.8, fraction: 1 }], warmPushes: [0.25] }));
    expect(trace.fleet.map((e) => [e.kind, e.atMs])).toEqual([['warmPush', 15_000], ['drop', 30_000], ['restart', 48_000]]);
    const drop = trace.fleet.find((e) => e.kind === 'drop');
    const dropped = drop && drop.kind === 'drop' ? drop.bears.length : 0;
    expect(dropped).toBeGreaterThan(250);
    expect(dropped).toBeLessThan(350);
  });
});
