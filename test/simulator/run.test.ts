/**
 * A small real run: a gateway child started through its CLI (with its own
 * redis), 20 virtual bears on real MQTT connections, a drop storm, baselines;
 * then the report's accounting and the HTML report rendered in headless Chromium.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withOfflinePage } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_IDS } from '../../simulator/html-report.js';
import { DEFAULT_LAUNCH, launchSimulation, type LaunchResult } from '../../simulator/launch.js';
import { checkReport } from '../../simulator/report.js';

const outDir = mkdtempSync(join(tmpdir(), 'teddy-sim-test-'));
let run: LaunchResult;

beforeAll(async () => {
  run = await launchSimulation({
    ...DEFAULT_LAUNCH,
    bears: 20,
    durationMs: 5_000,
    seed: 7,
    // Busy children, so 5 s holds a few hundred utterances.
    meanSilenceMs: 1_000,
    meanThinkMs: 300,
    storms: [{ kind: 'drop', at: 0.4, fraction: 0.5 }],
    warmPushes: [],
    requestTimeoutMs: 5_000,
    // From the sources: test files run in parallel, and two building dist/ at once would race.
    gatewayFromSource: true,
    outDir,
  });
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('a small real simulation run', () => {
  it('connects every bear and gets answers from the gateway', () => {
    const r = run.report;
    expect(r.connections.connected).toBe(20);
    expect(r.requests.sent).toBeGreaterThan(50);
    expect(r.requests.answered).toBeGreaterThan(0.9 * r.requests.sent);
    expect(r.connections.drops).toBeGreaterThan(0);
    // Dropped bears came back: more welcomes than bears.
    expect(r.connections.connects).toBeGreaterThan(20);
  });

  it('adds up: per-layer hits + misses = requests, bytes and timeline consistent', () => {
    const r = run.report;
    expect(checkReport(r)).toEqual([]);
    expect(r.layers.l1.hits + r.layers.l2.hits + r.layers.miss.hits + r.layers.other.hits).toBe(r.requests.answered);
    expect(r.layers.flash.of).toBe(r.audio.flash + r.audio.inline + r.layers.l3.of);
    // Every clip byte the bears received came from the origin or the edge; warm bytes are a part of that.
    expect(r.bytes.warm).toBeLessThanOrEqual(r.bytes.origin + r.bytes.edge);
    expect(r.bytes.origin).toBeGreaterThan(0);
    expect(r.bytes.mqttOut).toBeGreaterThan(0);
    // Provider calls are the gateway's own count: each computed response answers one or more
    // provider-sourced answers (concurrent misses for the same line share one call).
    expect(r.provider.callsSource).toBe('gateway');
    expect(r.provider.calls.respond).toBeGreaterThan(0);
    expect(r.provider.calls.respond).toBeLessThanOrEqual(r.layers.miss.hits);
    const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);
    expect(r.provider.callsAvoided).toBe(total(r.provider.callsWithoutCache) - total(r.provider.calls));
  });

  it('measures the gateway process and the baselines', () => {
    const r = run.report;
    expect(r.gateway.peakRssMB).toBeGreaterThan(10);
    expect(r.gateway.samples.length).toBeGreaterThan(3);
    expect(r.latency.answer.count).toBe(r.requests.answered);
    expect(r.latency.transportFloor?.count).toBeGreaterThan(0);
    expect(r.latency.noCache?.count).toBe(20);
    expect(r.latency.cachedIdle?.count).toBe(20);
    expect(r.flashPolicies.belady).toBeGreaterThanOrEqual(0);
    expect(r.flashPolicies.plays).toBe(r.requests.answered);
  });

  it('renders the HTML report offline with every chart drawn', async () => {
    await withOfflinePage(async (page) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${run.htmlPath}`);
      await page.waitForFunction(() => (window as unknown as { __chartsReady?: boolean }).__chartsReady === true, undefined, { timeout: 20_000 });
      const inked = await page.evaluate((ids) => ids.map((id) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) drawn++;
        return drawn / (pixels.length / 4);
      }), [...CHART_IDS]);
      expect(errors).toEqual([]);
      // Axes, labels and lines cover well over 1% of each canvas; a blank canvas has none.
      for (const share of inked) expect(share).toBeGreaterThan(0.01);
      mkdirSync('reports', { recursive: true });
      await page.screenshot({ path: 'reports/simulator-report.png', fullPage: true });
      expect(existsSync('reports/simulator-report.png')).toBe(true);
    });
  });
});
