/**
 * A bear that reconnects resends the requests it has no answer for, with the same correlation id.
 * One still being computed is answered once, on the bear's current connection; one sent again
 * after its answer went out is answered again (the bear may have lost it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, type Message } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestGateway } from './harness.js';
import { setTimeout as sleep } from 'node:timers/promises';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ providerLatencyMs: 300 });
});
afterAll(() => t?.stop());

describe('a request sent again', () => {
  it('while its first copy is in flight is answered once, on the newer connection; after its answer, again', async () => {
    const first = await t.connectFleetBear('resend-bear');
    await first.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 65536, clips: [], warmSeq: 0 });
    const pending = first.request(textUtterance(7, 'why is the sky blue'), 2500); // a miss: ~900 ms of provider
    await sleep(100);
    // The connection drops; the bear reconnects with the same client id and resends id 7.
    const second = await t.connectFleetBear('resend-bear');
    const answers: Message[] = [];
    second.client.on('message', (_topic, payload) => {
      const m = decodeMessage(payload, Infinity);
      if ('id' in m && m.id === 7) answers.push(m);
    });
    const resent = second.request(textUtterance(7, 'why is the sky blue'));
    expect(await resent).toMatchObject({ type: 'answer', id: 7 });
    await sleep(500); // a second answer would have come by now (the compute is shared)
    expect(answers).toHaveLength(1);
    await expect(pending).rejects.toThrow(/no response/); // the old connection got nothing
    // After the answer: sent again, answered again (from L1).
    expect(await second.request(textUtterance(7, 'why is the sky blue'))).toMatchObject({ type: 'answer', id: 7 });
    await second.close();
    await first.close();
  }, 30_000);
});
