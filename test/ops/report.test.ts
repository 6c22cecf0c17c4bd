/**
 * The fleet report: two real gateways sharing one Redis, traffic on both,
 * then `report --out DIR` from the CLI against one of them. The JSON covers
 * both processes (the fleet's SLO events are the sum of what each counted),
 * and the HTML opens offline in headless Chromium with every chart drawn and
 * nothing fetched.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withOfflinePage } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpsReport } from '../../gateway/ops/ops-report.js';
import { CHART_IDS } from '../../gateway/ops/report-html.js';
import { startTestFleet, textUtterance, type TestFleet, type TestGateway } from '../gateway/harness.js';

const run = promisify(execFile);
const INTERVAL_MS = 200;
const out = mkdtempSync(join(tmpdir(), 'teddy-report-'));
let fleet: TestFleet;
let a: TestGateway;
let b: TestGateway;
let report: OpsReport;
let stdout: string;

const messagesCounted = async (g: TestGateway): Promise<number> =>
  [...(await (await fetch(`${g.gateway.httpUrl}/metrics`)).text()).matchAll(/^teddy_gateway_requests_total\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);

/**
 * Waits (at most 20 s) until the fleet's sampled SLO events cover every request both gateways
 * counted and both processes are live: the ops sampler runs every INTERVAL_MS, later on a loaded
 * machine, so a fixed pause could leave the report a sample short.
 */
async function everyMessageSampled(): Promise<void> {
  const token = readFileSync(join(a.dataDir, 'admin-token'), 'utf8').trim();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const live = (await (await fetch(`${a.gateway.httpUrl}/admin/ops/report`, { headers: { authorization: `Bearer ${token}` } })).json()) as OpsReport;
    const sampled = live.slos.find((s) => s.name === 'availability')!.windows.find((w) => w.window === '5m')!.valid;
    if (live.fleet.live === 2 && sampled === (await messagesCounted(a)) + (await messagesCounted(b))) return;
    if (Date.now() > deadline) throw new Error(`after 20 s the fleet sampled ${sampled} requests with ${live.fleet.live} live processes`);
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
}

beforeAll(async () => {
  // Gateways sharing a Redis share the cache's encryption key (docs/sdk.md); each has its own data dir.
  process.env.TEDDY_CACHE_KEYS = `fleet:${randomBytes(32).toString('base64')}`;
  fleet = await startTestFleet(2, { opsIntervalMs: INTERVAL_MS });
  [a, b] = fleet.gateways as [TestGateway, TestGateway];
  const bears = [await a.connectFleetBear('report-a'), await b.connectFleetBear('report-b')];
  for (const bear of bears) await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
  // A few seconds of traffic, repeats and new lines, within the bears' rate limit; one bear at a
  // time, so the second gateway finds in L2 what the first computed (and a loaded machine's slow
  // synthesis never leaves a request waiting on the other gateway's lock).
  for (let i = 0; i < 12; i++) {
    for (const bear of bears) await bear.request(textUtterance(10 + i, i % 4 === 0 ? `line number ${i}` : 'what do bears eat'), 30_000);
    await new Promise((r) => setTimeout(r, 100));
  }
  await everyMessageSampled();
  ({ stdout } = await run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'report', '--out', out, '--data-dir', a.dataDir]));
  report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as OpsReport;
}, 150_000);
afterAll(async () => {
  await fleet?.stop();
  delete process.env.TEDDY_CACHE_KEYS;
  rmSync(out, { recursive: true, force: true });
});

describe('the fleet report', () => {
  it('writes HTML and JSON and says where', () => {
    expect(stdout.trim().split('\n')).toEqual([join(out, 'report.html'), join(out, 'report.json')]);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('covers every process of the fleet, and the fleet\'s SLO events add up', async () => {
    expect(report.fleet.processes, JSON.stringify(report.fleet)).toHaveLength(2);
    expect(report.fleet.live).toBe(2);
    expect(new Set(report.fleet.processes.map((p) => p.httpUrl))).toEqual(new Set([a.gateway.httpUrl, b.gateway.httpUrl]));
    const availability = report.slos.find((s) => s.name === 'availability')!;
    const five = availability.windows.find((w) => w.window === '5m')!;
    expect(five.valid).toBe((await messagesCounted(a)) + (await messagesCounted(b)));
    expect(report.slos.map((s) => s.name)).toEqual(['l1HitRate', 'l2Latency', 'memory', 'missRecovery', 'availability']);
    for (const slo of report.slos) expect(slo.windows.map((w) => w.window)).toEqual(['5m', '1h', '24h']);
    expect(report.slos.find((s) => s.name === 'l1HitRate')!.windows[0]!.valid).toBeGreaterThan(0);
    // L2 served the second gateway what the first computed.
    expect(report.slos.find((s) => s.name === 'l2Latency')!.windows[0]!.valid).toBeGreaterThan(0);
  });

  it('carries alerts, recommendations with evidence, capacity, cost and chart series', () => {
    expect(report.alerts).toMatchObject({ firing: expect.any(Array), recent: expect.any(Array) });
    for (const r of report.recommendations) expect(Object.keys(r.evidence).length).toBeGreaterThan(0);
    expect(report.capacity.processes).toBe(2);
    expect(report.capacity.cpuMsPerRequest).toBeGreaterThan(0);
    expect(report.cost.callsAvoided).toBeGreaterThan(0);
    expect(report.cost.saved).toBeCloseTo(report.cost.callsAvoided * report.cost.pricePerCall);
    expect(report.charts.lastHour.points.length).toBeGreaterThan(3);
    expect(Math.max(...report.charts.lastHour.points.map((p) => p.processes))).toBe(2);
    expect(report.config.slos.l2Latency.thresholdMs).toBe(50);
  });

  it('is served to a read token (health and live too), not without one', async () => {
    const { stdout: made } = await run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'token', 'create', '--role', 'read', '--json', '--data-dir', a.dataDir, '--redis-url', fleet.redis!.url]);
    const { token } = JSON.parse(made) as { token: string };
    for (const view of ['report', 'health', 'live']) {
      const url = `${a.gateway.httpUrl}/admin/ops/${view}`;
      expect((await fetch(url)).status, view).toBe(401);
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, view).toBe(200);
      await res.json();
    }
  });

  it('renders offline in headless Chromium with every chart drawn', { timeout: 60_000 }, async () => {
    await withOfflinePage(async (page) => {
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${join(out, 'report.html')}`);
      const drawn = await page.evaluate((ids) => ids.map((id) => {
        const svg = document.getElementById(id) as unknown as SVGSVGElement | null;
        if (!svg) return { id, length: -1, width: 0 };
        const length = [...svg.querySelectorAll<SVGPathElement>('path.series')].reduce((n, p) => n + p.getTotalLength(), 0);
        return { id, length, width: svg.getBoundingClientRect().width };
      }), [...CHART_IDS]);
      expect(errors).toEqual([]);
      expect(requests).toEqual([`file://${join(out, 'report.html')}`]); // self-contained: nothing else loaded
      for (const chart of drawn) {
        expect(chart.width, chart.id).toBeGreaterThan(100);
        expect(chart.length, `${chart.id}: drawn line length`).toBeGreaterThan(50);
      }
      mkdirSync('reports', { recursive: true });
      await page.screenshot({ path: 'reports/ops-report.png', fullPage: true });
    });
  });
});
