/**
 * Redis dies mid-run: bears keep getting answers (from L1, or computed), the
 * gateway does not crash, and it recovers when Redis is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPTS } from '../../gateway/providers/phrasebook.js';
import { AnswerSource, type Answer } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestBear, type TestGateway } from './harness.js';

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
