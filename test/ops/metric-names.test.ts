/**
 * `/metrics` as Prometheus's own linter sees it: `promtool check metrics`
 * (Debian's prometheus package) on a real gateway's exposition after traffic
 * that touches every family (hits, misses, a provider failure) says nothing.
 */
import { spawnSync } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProvider } from '../../gateway/providers/demo-provider.js';
import type { Provider } from '../../gateway/providers/provider.js';
import { startTestGateway, textUtterance, type TestGateway } from '../gateway/harness.js';

const demo = createDemoProvider({ latencyMs: 0, log: pino({ level: 'silent' }) });
const failing: Provider = { ...demo, respond: (t) => (t === 'break the ai' ? Promise.reject(new Error('provider down')) : demo.respond(t)) };

let t: TestGateway;
let exposition: string;
beforeAll(async () => {
  t = await startTestGateway({ provider: failing });
  const bear = await t.connectFleetBear('metrics-bear');
  await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
  await bear.request(textUtterance(2, 'what do bears eat'));
  await bear.request(textUtterance(3, 'what do bears eat'));
  await bear.request(textUtterance(4, 'break the ai'));
  exposition = await (await fetch(`${t.gateway.httpUrl}/metrics`)).text();
});
afterAll(async () => {
  await t?.stop();
});

describe('metric names', () => {
  it('pass promtool check metrics with no complaint', () => {
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
  });

  it('have one prefix, counters ending in _total, and the cache counters as counters', () => {
    const types = new Map([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect([...types.keys()].filter((name) => /(teddy_.*){2}|process_process/.test(name))).toEqual([]);
    for (const [name, type] of types) expect(type === 'counter', name).toBe(name.endsWith('_total'));
    expect(types.get('teddy_cache_hits_total')).toBe('counter');
    expect(types.get('teddy_cache_misses_total')).toBe('counter');
    expect(types.get('teddy_gateway_process_cpu_seconds_total')).toBe('counter');
    expect(exposition).toMatch(/^teddy_cache_hits_total\{layer="l1"\} [1-9]/m);
    expect(exposition).toMatch(/^teddy_gateway_provider_errors_total\{op="respond"\} 1$/m);
  });
});
