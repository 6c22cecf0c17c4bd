/**
 * The alert lifecycle (pending, firing once per episode, resolved), the rules
 * on hand-made series, and trends with their forecasts: pure logic.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AlertNotice } from '../../gateway/ops/alert-webhook.js';
import { createHealthMonitor } from '../../gateway/ops/health-monitor.js';
import { evaluateRules, type Condition } from '../../gateway/ops/health-rules.js';
import { resolveOpsConfig } from '../../gateway/ops/ops-config.js';
import { emptySample, type Sample } from '../../gateway/ops/sample.js';
import { evaluateSlos } from '../../gateway/ops/slo.js';
import { humanDuration, trendOf } from '../../gateway/ops/trends.js';

const silent = pino({ level: 'silent' });
const condition = (holds: boolean, over: Partial<Condition> = {}): Condition => ({
  alert: 'TeddyL2Down', rule: 'l2Down', severity: 'critical', forSeconds: 0, labels: {}, holds, value: holds ? 1 : 0, threshold: 1, summary: 's', ...over,
});

describe('the health monitor', () => {
  it('fires once per episode and resolves, with the webhook fields', () => {
    const sent: AlertNotice[] = [];
    const m = createHealthMonitor({ instance: 'gw-1', log: silent, notify: (n) => sent.push(n) });
    m.evaluate([condition(false)], 0);
    for (let t = 1000; t <= 5000; t += 1000) m.evaluate([condition(true)], t);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      alert: 'TeddyL2Down', severity: 'critical', state: 'firing', startsAt: new Date(1000).toISOString(), value: 1, threshold: 1, summary: 's',
      instance: 'gw-1', labels: { instance: 'gw-1' }, runbook: 'docs/operations.md#teddyl2down',
    });
    expect(m.firing().map((a) => a.alert)).toEqual(['TeddyL2Down']);
    m.evaluate([condition(false)], 6000);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ state: 'resolved', startsAt: new Date(1000).toISOString(), endsAt: new Date(6000).toISOString() });
    expect(m.firing()).toEqual([]);
    m.evaluate([condition(true)], 7000);
    expect(sent.map((n) => n.state)).toEqual(['firing', 'resolved', 'firing']);
    expect(m.recent().map((n) => n.state)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('waits forSeconds before firing, and a blip shorter than that never fires', () => {
    const sent: AlertNotice[] = [];
    const m = createHealthMonitor({ instance: 'gw', log: silent, notify: (n) => sent.push(n) });
    m.evaluate([condition(true, { forSeconds: 10 })], 0);
    m.evaluate([condition(true, { forSeconds: 10 })], 5000);
    m.evaluate([condition(false, { forSeconds: 10 })], 8000);
    expect(sent).toEqual([]);
    m.evaluate([condition(true, { forSeconds: 10 })], 9000);
    m.evaluate([condition(true, { forSeconds: 10 })], 19_000);
    expect(sent.map((n) => [n.state, n.startsAt])).toEqual([['firing', new Date(9000).toISOString()]]);
  });

  it('keeps one alert per label set (one per SLO) and resolves what a disabled rule had firing', () => {
    const sent: AlertNotice[] = [];
    const m = createHealthMonitor({ instance: 'gw', log: silent, notify: (n) => sent.push(n) });
    const burn = (slo: string, holds: boolean) => condition(holds, { alert: 'TeddySloBurnRateFast', rule: 'sloBurnFast', labels: { slo } });
    m.evaluate([burn('availability', true), burn('memory', true), burn('l2Latency', false)], 0);
    expect(m.firing().map((a) => a.labels.slo).sort()).toEqual(['availability', 'memory']);
    m.evaluate([burn('memory', true)], 1000);
    expect(sent.filter((n) => n.state === 'resolved').map((n) => n.labels.slo)).toEqual(['availability']);
  });
});

const sampleAt = (t: number, over: Partial<Sample>): Sample => ({ ...emptySample(t, 1000), processes: 1, ...over });

describe('the rules', () => {
  const config = resolveOpsConfig({ slos: { memory: { maxMb: 100 } } });
  const ctx = (latest: Sample, windowSample = latest) => ({
    config, latest, window: () => windowSample, samples: () => [latest], slos: evaluateSlos(config.slos, () => windowSample),
  });
  const holding = (c: Condition[]) => c.filter((x) => x.holds).map((x) => x.alert + (x.labels.slo ? `:${x.labels.slo}` : ''));

  it('hold for the conditions they name and not otherwise', () => {
    expect(holding(evaluateRules(ctx(sampleAt(1, { rssBytes: 10 * 1048576 }))))).toEqual([]);
    expect(holding(evaluateRules(ctx(sampleAt(1, { rssBytes: 95 * 1048576, rssMaxBytes: 95 * 1048576 }))))).toEqual(['TeddyMemoryNearLimit']);
    expect(holding(evaluateRules(ctx(sampleAt(1, { l2Down: 1 }))))).toEqual(['TeddyL2Down']);
    expect(holding(evaluateRules(ctx(sampleAt(1, { eventLoopP99Ms: 500 }))))).toEqual(['TeddyEventLoopLag']);
    const failingProvider = sampleAt(1, { providerCalls: { respond: 10 }, providerErrors: 3 });
    expect(holding(evaluateRules(ctx(failingProvider)))).toEqual(['TeddyProviderErrors']);
  });

  it('see a hit-rate drop and a budget burning too fast', () => {
    const layers = (hits: number, misses: number) => ({ ...emptySample(0, 0).layers, l1: { hits, misses, errors: 0 } });
    expect(holding(evaluateRules(ctx(sampleAt(1, { layers: layers(10, 90) }))))).toContain('TeddyL1HitRateDrop');
    expect(holding(evaluateRules(ctx(sampleAt(1, { layers: layers(90, 10) }))))).not.toContain('TeddyL1HitRateDrop');
    const failing = sampleAt(1, { sli: { ...emptySample(0, 0).sli, availability: { good: 900, valid: 1000 } } });
    expect(holding(evaluateRules(ctx(failing)))).toEqual(expect.arrayContaining(['TeddySloBurnRateFast:availability', 'TeddySloBurnRateSlow:availability']));
  });

  it('are switched off by the configuration', () => {
    const off = resolveOpsConfig({ rules: { l2Down: { enabled: false } } });
    const latest = sampleAt(1, { l2Down: 1 });
    expect(evaluateRules({ config: off, latest, window: () => latest, samples: () => [latest], slos: [] }).some((c) => c.alert === 'TeddyL2Down')).toBe(false);
  });
});

describe('trends', () => {
  const hour = 3_600_000;
  it('forecast when a rising metric reaches its limit', () => {
    const now = 10 * hour;
    // L1 grows 1 MB an hour from 180 MB: 256 MB is 76 h (about 3 days) away.
    const points = Array.from({ length: 24 }, (_, i) => [now - (23 - i) * hour / 4, 180 + (i - 23) / 4] as const);
    const t = trendOf({ metric: 'L1 size per process', unit: 'MB', points, limit: { value: 256, name: 'l1MaxSizeMb', direction: 'above' } }, now)!;
    expect(t.slopePerHour).toBeCloseTo(1);
    expect((t.crossesAt! - now) / hour).toBeCloseTo(76, 0);
    expect(t.message).toBe('L1 size per process reaches l1MaxSizeMb (256 MB) in about 3 days at +1.0 MB/h');
  });

  it('make no forecast for a flat or falling metric, nor from too little history', () => {
    const flat = Array.from({ length: 10 }, (_, i) => [i * hour, 100] as const);
    expect(trendOf({ metric: 'm', unit: 'MB', points: flat, limit: { value: 256, name: 'limit', direction: 'above' } }, 10 * hour)!.crossesAt).toBeUndefined();
    const short = Array.from({ length: 10 }, (_, i) => [i * 1000, i] as const);
    expect(trendOf({ metric: 'm', unit: 'MB', points: short }, 10_000)).toBeUndefined();
  });

  it('say durations as a person would', () => {
    expect(humanDuration(30 * 60_000)).toBe('about 30 minutes');
    expect(humanDuration(5 * hour)).toBe('about 5 hours');
    expect(humanDuration(76 * hour)).toBe('about 3 days');
  });
});
