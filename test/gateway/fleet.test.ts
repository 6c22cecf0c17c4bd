/**
 * Two gateways of one fleet, in this process, on one real Redis, with the
 * same keys: a bear provisioned through either is accepted by both, an
 * answer computed on one is an L2 hit on the other, warm pushes and removals
 * issued at one reach the bear on the other, a client id that connects to
 * the second gateway closes its connection on the first, and each bear's
 * history and warm sequence follow it from one gateway to the other.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE } from '../../gateway/index.js';
import { PROMPTS } from '../../gateway/providers/phrasebook.js';
import { AnswerSource, type Answer, type Hello } from '../../protocol/index.js';
import { TEST_KEYS } from '../helpers/cache.js';
import { connectBear, startTestFleet, textUtterance, type TestBear, type TestFleet, type TestGateway } from './harness.js';

let fleet: TestFleet;
beforeAll(async () => {
  process.env.TEDDY_CACHE_KEYS = `k1:${TEST_KEYS.k1}`;
  fleet = await startTestFleet(2);
});
afterAll(() => fleet?.stop());

const a = () => fleet.gateways[0]!;
const b = () => fleet.gateways[1]!;
const hello = (id: number, warmSeq = 0): Hello => ({ type: 'hello', id, fw: '1.0.0', flashBudget: 256 * 1024, clips: [], warmSeq });

async function providerCalls(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return [...text.matchAll(/^teddy_gateway_provider_calls_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function adminStats(t: TestGateway, deviceId: string): Promise<unknown> {
  const token = readFileSync(join(t.dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
  const res = await fetch(`${t.gateway.httpUrl}/admin/stats?device=${deviceId}`, { headers: { authorization: `Bearer ${token}` } });
  return res.json();
}

const closed = (bear: TestBear): Promise<void> => new Promise((resolve) => bear.client.once('close', () => resolve()));

describe('one fleet on two gateways', () => {
  it('accepts a bear provisioned through either gateway on both', async () => {
    const { secret } = await a().gateway.devices.add('provisioned-on-a');
    const onB = await connectBear(b().gateway.mqttUrl, 'provisioned-on-a', secret);
    expect(await onB.request(hello(1))).toMatchObject({ type: 'welcome' });
    await onB.close();
    const other = await b().gateway.devices.add('provisioned-on-b');
    const onA = await connectBear(a().gateway.mqttUrl, 'provisioned-on-b', other.secret);
    await onA.close();
    expect((await a().gateway.devices.list()).map((d) => d.id)).toEqual(['provisioned-on-a', 'provisioned-on-b']);
  });

  it('answers from L2 on one what the other computed, calling the provider once', async () => {
    const onA = await a().connectFleetBear('l2-bear-a');
    const onB = await b().connectFleetBear('l2-bear-b');
    const before = [await providerCalls(a().gateway.httpUrl), await providerCalls(b().gateway.httpUrl)];
    const first = (await onA.request(textUtterance(1, PROMPTS[5]!))) as Answer;
    expect(first.source).toBe(AnswerSource.provider);
    const second = (await onB.request(textUtterance(1, PROMPTS[5]!))) as Answer;
    expect(second).toMatchObject({ type: 'answer', source: AnswerSource.l2, reply: first.reply });
    expect(await providerCalls(b().gateway.httpUrl)).toBe(before[1]);
    expect(await providerCalls(a().gateway.httpUrl)).toBeGreaterThan(before[0]!);
  });

  it('pushes warm manifests issued at one gateway to bears connected to the other', async () => {
    const bear = await b().connectFleetBear('warm-elsewhere');
    await bear.request(hello(1));
    await bear.waitForWarms(1);
    expect(await a().gateway.pushWarm('warm-elsewhere')).toBe(1);
    await bear.waitForWarms(2);
    const onA = await a().connectFleetBear('warm-here');
    await onA.request(hello(1));
    await onA.waitForWarms(1);
    // Everyone who said hello, on both gateways (bears of earlier tests included).
    const pushed = await a().gateway.pushWarm();
    expect(pushed).toBeGreaterThanOrEqual(2);
    await bear.waitForWarms(3);
    await onA.waitForWarms(2);
    expect(await a().gateway.pushWarm('nobody-connected')).toBe(0);
  });

  it('disconnects a bear removed at one gateway from the other, and refuses it after', async () => {
    const { secret } = await a().gateway.devices.add('to-remove');
    const bear = await connectBear(b().gateway.mqttUrl, 'to-remove', secret);
    const gone = closed(bear);
    expect(await a().gateway.devices.remove('to-remove')).toBe(true);
    await gone;
    await expect(connectBear(b().gateway.mqttUrl, 'to-remove', secret)).rejects.toThrow(/Bad username or password/);
  });

  it('closes the older connection when a client id connects to the other gateway', async () => {
    const first = await a().connectFleetBear('roaming-bear');
    await first.request(hello(1));
    const firstClosed = closed(first);
    const second = await b().connectFleetBear('roaming-bear');
    await firstClosed;
    // The new connection stays and is served.
    await sleep(300);
    expect(second.client.connected).toBe(true);
    expect(await second.request(hello(2))).toMatchObject({ type: 'welcome' });
    // A warm push at the first gateway now finds the bear on the second.
    expect(await a().gateway.pushWarm('roaming-bear')).toBe(1);
  });

  it("carries a bear's history and warm sequence from one gateway to the other", async () => {
    const onA = await a().connectFleetBear('history-bear');
    await onA.request(hello(1));
    await onA.waitForWarms(1);
    // Clips played on A make this bear's history; a push then plans (and numbers) a new manifest.
    let id = 1;
    for (const p of PROMPTS.slice(10, 13)) await onA.request(textUtterance(++id, p));
    expect(await a().gateway.pushWarm('history-bear')).toBe(1);
    const [, second] = await onA.waitForWarms(2);
    expect(second!.seq).toBe(2);
    await onA.close();
    // A writes behind (about once a second); B reads the bear's state at its hello.
    await sleep(1500);
    const onB = await b().connectFleetBear('history-bear');
    // The bear never applied either manifest: it says 0, and B still numbers above what A handed out.
    const welcome = (await onB.request(hello(1, 0))) as { warmSeq: number };
    expect(welcome.warmSeq).toBeGreaterThanOrEqual(2);
    expect(await adminStats(b(), 'history-bear')).toMatchObject({ connected: true, clipsInHistory: 3, newestWarmSeq: welcome.warmSeq });
  });

  it('knows the clips the other gateway catalogued, for clip requests', async () => {
    const onA = await a().connectFleetBear('clips-a');
    const answer = (await onA.request(textUtterance(1, PROMPTS[9]!))) as Answer;
    const onB = await b().connectFleetBear('clips-b');
    await until(async () => {
      const r = await onB.request({ type: 'clipGet', id: Math.floor(Math.random() * 1e6), clipId: answer.clip.clipId });
      return r.type === 'clip';
    // The clip log is read about once a second.
    }, 'the clip on the other gateway', 3000);
  });
});
