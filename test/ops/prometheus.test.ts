/**
 * The dashboard and the alerting rules against a real Prometheus (Debian's):
 * it scrapes a real gateway under a little load every second, with
 * docs/ops/alerts.yml loaded; then every panel query of
 * docs/ops/grafana-dashboard.json must return data and every alerting rule
 * must have been evaluated without error, both through Prometheus's HTTP API.
 * Prometheus runs on a free port with its own config and a temporary TSDB,
 * and is stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/free-port.js';
import { startTestGateway, textUtterance, type TestGateway } from '../gateway/harness.js';

interface Panel {
  readonly title: string;
  readonly targets: readonly { readonly expr: string }[];
}
interface RuleState {
  readonly name: string;
  readonly type: 'alerting' | 'recording';
  readonly query: string;
  readonly health: string;
  readonly lastError?: string;
  readonly lastEvaluation: string;
}
interface ApiAnswer<T> {
  readonly status: string;
  readonly data: T;
  readonly error?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'teddy-prometheus-'));
const dashboard = JSON.parse(readFileSync('docs/ops/grafana-dashboard.json', 'utf8')) as { panels: Panel[] };
const alertNames = [...readFileSync('docs/ops/alerts.yml', 'utf8').matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
/** Grafana's variables, as a dashboard over the last hour at a 15 s step would fill them. */
const grafanaVars = (expr: string): string => expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$__range', '1h');

let t: TestGateway;
let prometheus: ChildProcess | undefined;
let api = '';
let stopLoad = false;
let load: Promise<void> = Promise.resolve();

async function query<T>(path: string): Promise<ApiAnswer<T>> {
  return (await (await fetch(`${api}${path}`)).json()) as ApiAnswer<T>;
}
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  t = await startTestGateway({ opsIntervalMs: 500 });
  const bears = await Promise.all(['prom-a', 'prom-b', 'prom-c'].map((id) => t.connectFleetBear(id)));
  for (const bear of bears) await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
  // Some load until the end: repeats (hits) and new lines (misses, provider calls), within the rate limit.
  let n = 0;
  load = (async () => {
    while (!stopLoad) {
      await Promise.all(bears.map((bear) => bear.request(textUtterance(++n + 10, n % 5 === 0 ? `question ${n}` : 'what do bears eat')).catch(() => undefined)));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${resolve('docs/ops/alerts.yml')}`,
    'scrape_configs:',
    '  - job_name: teddycache',
    '    static_configs:',
    `      - targets: ['${new URL(t.gateway.httpUrl).host}']`,
    '',
  ].join('\n'));
  prometheus = spawn('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
  ], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  prometheus.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
  await until(async () => (await fetch(`${api}/-/ready`)).ok, 20_000, `Prometheus ready (${stderr.join('')})`);
  await until(async () => (await query<{ result: unknown[] }>('/api/v1/query?query=up%7Bjob%3D%22teddycache%22%7D%3D%3D1')).data.result.length === 1, 20_000, 'the gateway scraped');
  // Enough scrapes for 1-minute rates over SLO counters that move every ops sample.
  await until(async () => (await query<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent('increase(teddy_slo_events_total{slo="availability"}[1m]) > 0')}`)).data.result.length === 1, 30_000, 'SLO events moving');
  await new Promise((r) => setTimeout(r, 4000));
}, 120_000);

afterAll(async () => {
  stopLoad = true;
  await load;
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a real Prometheus scraping a real gateway', () => {
  it('gets data for every panel query of the Grafana dashboard', async () => {
    const empty: string[] = [];
    let targets = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        targets++;
        const answer = await query<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(grafanaVars(target.expr))}`);
        expect(answer.status, `${panel.title}: ${answer.error ?? ''}`).toBe('success');
        if (answer.data.result.length === 0) empty.push(`${panel.title}: ${target.expr}`);
      }
    }
    expect(empty).toEqual([]);
    expect(targets).toBeGreaterThanOrEqual(dashboard.panels.length);
  });

  it('evaluates every alerting rule of alerts.yml without error', async () => {
    await until(async () => {
      const rules = (await query<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules')).data.groups.flatMap((g) => g.rules);
      return rules.length === alertNames.length && rules.every((r) => !r.lastEvaluation.startsWith('0001'));
    }, 20_000, 'every rule evaluated');
    const rules = (await query<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules')).data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name).sort()).toEqual([...alertNames].sort());
    for (const rule of rules) {
      expect(rule.health, `${rule.name}: ${rule.lastError ?? ''}`).toBe('ok');
      expect((await query(`/api/v1/query?query=${encodeURIComponent(rule.query)}`)).status, rule.name).toBe('success');
    }
  });
});
