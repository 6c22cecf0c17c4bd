/**
 * Alerts end to end, on a real gateway, a real Redis and a real HTTP
 * receiver: Redis killed → TeddyL2Down reaches the webhook within 30 s (at
 * the default ops interval), once, with the contract's fields; `health`
 * exits 1 while it fires; Redis back → resolved. And a webhook that hangs
 * costs the bears nothing: they are answered while the undelivered alerts are
 * dropped and counted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AlertNotice } from '../../gateway/ops/alert-webhook.js';
import { DEFAULT_OPTIONS } from '../../gateway/options.js';
import { AnswerSource, type Answer } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestGateway } from '../gateway/harness.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args]).then(
  ({ stdout }) => ({ code: 0, stdout }),
  (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
);

const servers: Server[] = [];
let t: TestGateway | undefined;
const dir = mkdtempSync(join(tmpdir(), 'teddy-alerts-'));
afterEach(async () => {
  await t?.stop();
  t = undefined;
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A webhook receiver: every notice it got, or one that never answers. */
async function receiver(hang = false): Promise<{ url: string; notices: AlertNotice[] }> {
  const notices: AlertNotice[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (hang) return;
      notices.push(JSON.parse(body) as AlertNotice);
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, notices };
}

/** `what` may be a function: a message built when the wait fails (say, with the logs by then). */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${typeof what === 'string' ? what : what()} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('alerts', () => {
  it('reach the webhook within 30 s when Redis dies, once per episode, and resolve when it is back', { timeout: 120_000 }, async () => {
    expect(DEFAULT_OPTIONS.opsIntervalMs).toBe(5000); // the default interval is what this test runs at
    const hook = await receiver();
    t = await startTestGateway({ alertWebhook: hook.url });
    const bear = await t.connectFleetBear('alert-bear');
    await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
    await bear.request(textUtterance(2, 'what do bears eat'));
    expect(await cli('health', '--data-dir', t.dataDir)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^healthy/) });

    const killedAt = Date.now();
    await t.redis!.kill();
    const firing = () => hook.notices.filter((n) => n.alert === 'TeddyL2Down' && n.state === 'firing');
    await until(() => firing().length > 0, 30_000, 'TeddyL2Down firing at the webhook');
    const n = firing()[0]!;
    expect(n).toMatchObject({ alert: 'TeddyL2Down', severity: 'critical', state: 'firing', value: 1, threshold: 1, summary: expect.stringMatching(/L2 \(Redis\) is unavailable/) });
    expect(Date.parse(n.startsAt)).toBeGreaterThanOrEqual(killedAt - DEFAULT_OPTIONS.opsIntervalMs);
    expect(n.endsAt).toBeUndefined();

    // Bears are still answered (from L1), and the probe says unhealthy, naming the alert.
    const during = (await bear.request(textUtterance(3, 'what do bears eat'))) as Answer;
    expect(during).toMatchObject({ type: 'answer', source: AnswerSource.l1 });
    const probe = await cli('health', '--data-dir', t.dataDir);
    expect(probe.code).toBe(1);
    expect(probe.stdout).toMatch(/^UNHEALTHY[\s\S]*CRITICAL TeddyL2Down/);
    expect(t.logs.join('')).toMatch(/"alert":"TeddyL2Down".*alert firing/);

    await t.redis!.restart();
    await until(() => hook.notices.some((x) => x.alert === 'TeddyL2Down' && x.state === 'resolved'), 30_000, 'TeddyL2Down resolved');
    const resolved = hook.notices.find((x) => x.alert === 'TeddyL2Down' && x.state === 'resolved')!;
    expect(resolved.startsAt).toBe(n.startsAt);
    expect(Date.parse(resolved.endsAt!)).toBeGreaterThan(Date.parse(n.startsAt));
    expect(firing()).toHaveLength(1); // one episode, one notice, however many evaluations it lasted
    expect((await cli('health', '--data-dir', t.dataDir)).code).toBe(0);
  });

  it('cost the bears nothing when the webhook hangs: undelivered ones are dropped and counted', { timeout: 60_000 }, async () => {
    const hook = await receiver(true);
    const config = join(dir, 'tiny-memory.json');
    // A memory limit every process is over: TeddyMemoryNearLimit fires at the first evaluation.
    writeFileSync(config, JSON.stringify({ slos: { memory: { maxMb: 1 } }, alerting: { webhookQueueSize: 1, webhookTimeoutMs: 200, webhookMaxAttempts: 1 } }));
    t = await startTestGateway({ alertWebhook: hook.url, sloConfig: config, opsIntervalMs: 200 });
    const bear = await t.connectFleetBear('patient-bear');
    const dropped = async () => [...(await (await fetch(`${t!.gateway.httpUrl}/metrics`)).text()).matchAll(/^teddy_gateway_alert_webhook_dropped_total\{reason="\w+"\} (\d+)$/gm)]
      .reduce((n, m) => n + Number(m[1]), 0);
    let answered = 0;
    await until(async () => {
      const a = await bear.request(textUtterance(++answered, 'what do bears eat'));
      expect(a.type).toBe('answer');
      return (await dropped()) >= 1;
      // The bound for an alert to fire is 30 s; the drop follows its one 200 ms attempt.
    }, 40_000, () => `a dropped alert counted (logs: ${t!.logs.filter((l) => /alert|webhook|ops/.test(l)).join('').slice(0, 3000)})`);
    expect(answered).toBeGreaterThan(0);
    expect(t.logs.join('')).toMatch(/"alert":"TeddyMemoryNearLimit".*alert firing/);
    expect(t.logs.join('')).toMatch(/alert webhook failed; notice dropped/);
  });
});
