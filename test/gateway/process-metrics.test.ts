/**
 * The gateway's process families are prom-client's defaults, collector by
 * collector, with the GC duration histogram only on request (--gc-metrics):
 * without it nothing else is missing, and with it collections are counted.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../gateway/metrics.js';
import { resolveOptions } from '../../gateway/options.js';
import { registerProcessMetrics } from '../../gateway/process-metrics.js';
import { CacheMetrics } from '../../sdk/metrics.js';

const GC = 'nodejs_gc_duration_seconds';
const names = (registry: Registry): string[] => registry.getMetricsAsArray().map((m) => m.name).sort();
const noCache = () => new CacheMetrics().snapshot({ l1Bytes: 0, l1Entries: 0, breakerState: 'closed' });

describe('process metrics', () => {
  it("are prom-client's defaults without the GC histogram unless asked", () => {
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults, prefix: 'p_' });
    const without = new Registry();
    registerProcessMetrics(without, 'p_', false);
    const withGc = new Registry();
    registerProcessMetrics(withGc, 'p_', true);
    expect(names(defaults)).toContain(`p_${GC}`);
    expect(names(without)).toEqual(names(defaults).filter((n) => n !== `p_${GC}`));
    expect(names(withGc)).toEqual(names(defaults));
  });

  it('with --gc-metrics, /metrics counts garbage collections', async () => {
    expect(resolveOptions({}, {}).gcMetrics).toBe(false);
    expect(resolveOptions({}, { TEDDY_GC_METRICS: '1' }).gcMetrics).toBe(true);
    const off = createGatewayMetrics({ connectedBears: () => 0, cache: noCache });
    expect(await off.registry.metrics()).not.toContain(`teddy_gateway_${GC}`);
    const on = createGatewayMetrics({ connectedBears: () => 0, cache: noCache }, { gcMetrics: true });
    const collections = async (): Promise<number> => {
      const text = await on.registry.metrics();
      return [...text.matchAll(new RegExp(`^teddy_gateway_${GC}_count\\{kind="\\w+"\\} (\\d+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    // A collection may already have been observed by now (the metrics text is garbage too), so count from here.
    const before = await collections();
    // Garbage until a young-generation collection has been observed (Node reports it a turn later).
    let kept: unknown;
    for (let round = 0; round < 200 && (await collections()) === before; round++) {
      for (let i = 0; i < 100_000; i++) kept = { i, s: `garbage ${i}` };
      await nextTurn();
    }
    expect(kept).toBeDefined();
    expect(await collections()).toBeGreaterThan(before);
  });
});
