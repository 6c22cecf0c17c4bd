/**
 * Redis dies mid-run: bears keep getting answers (from L1, or computed), the
 * gateway does not crash, says it lost the fleet state Redis and keeps
 * retrying, lets bears it has verified reconnect, and recovers when Redis is
 * back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPTS } from '../../gateway/providers/phrasebook.js';
import { AnswerSource, type Answer } from '../../protocol/index.js';
import { connectBear, startTestGateway, textUtterance, type TestBear, type TestGateway } from './harness.js';

let t: TestGateway;
let bear: TestBear;
beforeAll(async () => {
  t = await startTestGateway();
  bear = await t.connectFleetBear('outage-bear');
});
afterAll(() => t?.stop());

describe('Redis killed mid-run', () => {
  it('keeps answering from L1 and the provider, and recovers', async () => {
    let id = 0;
    for (const p of PROMPTS.slice(0, 3)) expect(await bear.request(textUtterance(++id, p))).toMatchObject({ type: 'answer' });

    await t.redis!.kill();
    // Repeats come from memory; new utterances are computed; none fails.
    for (const p of PROMPTS.slice(0, 6)) {
      const answer = (await bear.request(textUtterance(++id, p), 15_000)) as Answer;
      expect(answer.type).toBe('answer');
      if (PROMPTS.indexOf(p) < 3) expect(answer.source).toBe(AnswerSource.l1);
    }
    // Still serving, so healthy; the SDK's part of the report says L2 is gone.
    const health = await fetch(`${t.gateway.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, cache: { status: 'degraded', l2: { connected: false } } });

    await t.redis!.restart();
    for (const p of PROMPTS.slice(6, 9)) expect(await bear.request(textUtterance(++id, p), 15_000)).toMatchObject({ type: 'answer' });
  });
});

describe('the fleet state Redis away', () => {
  it('says so and keeps retrying; bears it verified reconnect, others wait; fleet work resumes when it is back', async () => {
    const own = await startTestGateway();
    try {
      const seen = await own.gateway.devices.add('seen-before-outage');
      const unseen = await own.gateway.devices.add('unseen-before-outage');
      await (await connectBear(own.gateway.mqttUrl, seen.id, seen.secret)).close();
      await own.redis!.kill();
      await until(() => own.logs.some((l) => l.includes('cannot reach the fleet state Redis')), 'the outage logged');
      const health = (await (await fetch(`${own.gateway.httpUrl}/healthz`)).json()) as { fleet: { connected: boolean } };
      expect(health.fleet.connected).toBe(false);
      // Verified before: connects and is served from what the gateway holds.
      const again = await connectBear(own.gateway.mqttUrl, seen.id, seen.secret);
      expect(await again.request(textUtterance(1, PROMPTS[0]!), 15_000)).toMatchObject({ type: 'answer' });
      await again.close();
      // Never seen by this gateway: refused until Redis is back.
      await expect(connectBear(own.gateway.mqttUrl, unseen.id, unseen.secret)).rejects.toThrow(/Not authorized/);
      await own.redis!.restart();
      await until(() => own.logs.some((l) => l.includes('fleet state Redis reachable again')), 'the recovery logged', 10_000);
      // This test's Redis keeps nothing across a restart (the embedded one does): enrol again, connect.
      const later = await own.gateway.devices.add('enrolled-after-outage');
      await (await connectBear(own.gateway.mqttUrl, later.id, later.secret)).close();
    } finally {
      await own.stop();
    }
  });
});

describe('a gateway whose Redis is gone', () => {
  it('still shuts down, promptly', async () => {
    const own = await startTestGateway();
    await own.connectFleetBear('closing-bear');
    await own.redis!.kill();
    const started = Date.now();
    await own.stop();
    // Bounded by the test timeout; nothing waits for a Redis that is not coming back.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
