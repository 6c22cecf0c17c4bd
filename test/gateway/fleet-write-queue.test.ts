/** The chunked fleet write queue (pure logic): order kept, bounded in flight, failures contained. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createWriteQueue, FLEET_WRITE_CHUNK, inChunks } from '../../gateway/fleet-write-queue.js';

/** A write that records its item and how many writes were in flight when it began. */
function recorder(fail?: (n: number) => boolean) {
  const done: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const write = async (n: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(1);
    inFlight--;
    done.push(n);
    if (fail?.(n)) throw new Error(`write ${n} failed`);
  };
  return { done, write, max: () => maxInFlight };
}

describe('fleet write queue', () => {
  it('writes a storm of items in order, at most one chunk in flight, through a failure', async () => {
    const r = recorder((n) => n === 7);
    const queue = createWriteQueue(r.write);
    const items = Array.from({ length: 1000 }, (_, i) => i);
    for (const i of items) queue.push(i);
    await queue.drained();
    expect(r.done).toEqual(items);
    expect(r.max()).toBe(FLEET_WRITE_CHUNK);
    queue.push(1000); // pushed after a drain: written too
    await queue.drained();
    expect(r.done.at(-1)).toBe(1000);
  });

  it('inChunks reports each item’s result in item order', async () => {
    const r = recorder((n) => n % 100 === 0);
    const results = await inChunks(Array.from({ length: 600 }, (_, i) => i), r.write);
    expect(results.map((x) => x.status === 'rejected')).toEqual(Array.from({ length: 600 }, (_, i) => i % 100 === 0));
    expect(r.max()).toBe(FLEET_WRITE_CHUNK);
  });

  it('an empty queue is drained at once', async () => {
    await expect(createWriteQueue(async () => undefined).drained()).resolves.toBeUndefined();
  });
});
