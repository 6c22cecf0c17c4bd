/**
 * OTA cache warm over real MQTT: the manifest after hello fits the bear's
 * flash budget by the firmware's block rule, its URLs download the right
 * bytes, sequence numbers are idempotent, and on-demand pushes follow
 * popularity.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STARTER_LINES } from '../../gateway/providers/phrasebook.js';
import { deviceTopic, encodeMessage, type Answer, type Hello } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestBear, type TestGateway } from './harness.js';

const blocks = (size: number): number => Math.ceil((size + 64) / 4096);
let t: TestGateway;
let bear: TestBear;

const hello = (id: number, warmSeq: number, flashBudget = 256 * 1024): Hello => ({
  type: 'hello', id, fw: '1.2.3', flashBudget, clips: [], warmSeq,
});

beforeAll(async () => {
  t = await startTestGateway();
  bear = await t.connectFleetBear('warm-bear');
});
afterAll(() => t?.stop());

describe('warm manifests', () => {
  it('pushes the starter set after the first hello, pinned, within budget, downloadable', async () => {
    expect(await bear.request(hello(1, 0))).toMatchObject({ type: 'welcome', id: 1, warmSeq: 1, maxRequestBytes: 65536 });
    const [warm] = await bear.waitForWarms(1);
    expect(warm!.seq).toBe(1);
    expect(warm!.clips).toHaveLength(STARTER_LINES.length);
    expect(warm!.clips.every((c, i) => c.pinned === true && c.priority === i)).toBe(true);
    expect(warm!.totalBytes).toBe(warm!.clips.reduce((n, c) => n + c.size, 0));
    expect(warm!.clips.reduce((n, c) => n + blocks(c.size), 0)).toBeLessThanOrEqual(Math.floor((256 * 1024) / 4096));
    for (const clip of warm!.clips) {
      const body = new Uint8Array(await (await fetch(clip.url)).arrayBuffer());
      expect(createHash('sha256').update(body).digest('hex')).toBe(Buffer.from(clip.sha256).toString('hex'));
    }
  });

  it('is idempotent by sequence: an up-to-date bear gets no new manifest, a stale one the same seq again', async () => {
    expect(await bear.request(hello(2, 1))).toMatchObject({ type: 'welcome', warmSeq: 1 });
    await sleep(300);
    expect(bear.warms).toHaveLength(1);
    expect(await bear.request(hello(3, 0))).toMatchObject({ type: 'welcome', warmSeq: 1 });
    const warms = await bear.waitForWarms(2);
    expect(warms[1]!.seq).toBe(1);
    expect(warms[1]!.clips.map((c) => c.sha256)).toEqual(warms[0]!.clips.map((c) => c.sha256));
  });

  it('respects a small budget by whole erase blocks', async () => {
    const starters = bear.warms[0]!.clips;
    // Room for the first starter clip and a little less than the second: 4000 spare bytes are no whole block.
    const budgetBlocks = blocks(starters[0]!.size) + blocks(starters[1]!.size) - 1;
    const small = await t.connectFleetBear('small-bear');
    try {
      await small.request(hello(1, 0, budgetBlocks * 4096 + 4000));
      const [warm] = await small.waitForWarms(1);
      expect(warm!.clips.reduce((n, c) => n + blocks(c.size), 0)).toBeLessThanOrEqual(budgetBlocks);
      expect(warm!.clips[0]!.sha256).toEqual(starters[0]!.sha256);
      expect(warm!.clips.length).toBeLessThan(starters.length);
    } finally {
      await small.close();
    }
  });

  it('pushes on demand with a new seq once popular clips change the plan, and records the ack', async () => {
    const answer = (await bear.request(textUtterance(10, 'tell me about the moon'))) as Answer;
    await bear.request(textUtterance(11, 'tell me about the moon'));
    expect(await t.gateway.pushWarm('warm-bear')).toBe(1);
    const warms = await bear.waitForWarms(3);
    const latest = warms[2]!;
    expect(latest.seq).toBe(2);
    expect(latest.clips.some((c) => Buffer.compare(c.clipId, answer.clip.clipId) === 0 && !c.pinned)).toBe(true);

    await bear.client.publishAsync(
      deviceTopic('warm-bear', 'evt'),
      encodeMessage({ type: 'warmAck', seq: 2, stored: latest.clips.map((c) => c.clipId), failed: [], bytesUsed: latest.totalBytes }),
      { qos: 1 },
    );
    expect(await t.gateway.pushWarm()).toBe(1);
    expect((await bear.waitForWarms(4))[3]!.seq).toBe(2);
    expect(t.logs.some((l) => l.includes('"msg":"warm ack"') && l.includes('"seq":2'))).toBe(true);
    expect(await t.gateway.pushWarm('no-such-bear')).toBe(0);
  });
});
