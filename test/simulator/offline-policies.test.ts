import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, FIRMWARE_LIMITS } from '../../protocol/index.js';
import { bedtimeWeek } from '../../simulator/bedtime-trace.js';
import { createFlashModel } from '../../simulator/flash-model.js';
import {
  beladyHits, lruHits, OFFLINE_POLICIES, s3fifoHits, sieveHits, wTinyLfuHits, type Play, type PolicyName,
} from '../../simulator/offline-policies.js';

const oneBlock = BLOCK_BYTES - 64;
const plays = (ids: string, size = oneBlock): Play[] => [...ids].map((id) => ({ id, size }));
const names = Object.keys(OFFLINE_POLICIES) as PolicyName[];

/** The firmware's policy (the simulator's model of it) on demand alone. */
function firmwareHits(trace: readonly Play[], budgetBlocks: number): number {
  const f = createFlashModel(budgetBlocks * BLOCK_BYTES);
  for (const p of trace) if (!f.play(p.id)) f.admitOnDemand(p.id, p.size);
  return f.stats().hits;
}

describe('offline policies', () => {
  it('LRU on a textbook sequence', () => {
    // Capacity 2: a b a c b -> hits: a(2nd); c evicts b; b misses.
    expect(lruHits(plays('abacb'), 2)).toBe(1);
  });

  it('Belady on the same sequence keeps what is needed soonest', () => {
    // Capacity 2: at c, a is never used again, so a goes and b hits.
    expect(beladyHits(plays('abacb'), 2)).toBe(2);
  });

  it('SIEVE: a hit only marks; the hand passes marked clips (clearing them) and evicts the first unmarked', () => {
    // Capacity 3: a b c, hit a; d: the hand clears a, evicts b; e: the hand (now at c) evicts c; a is still held.
    expect(sieveHits(plays('abcadea'), 3)).toBe(2);
    expect(sieveHits(plays('abcadeb'), 3)).toBe(1);  // b went at d
    expect(sieveHits(plays('abcadec'), 3)).toBe(1);  // c went at e, though a (the oldest) stayed
  });

  it('S3-FIFO: one-hit wonders leave through the small queue; a ghost hit goes straight to main', () => {
    // 10 blocks: small 1 block. x played twice in small moves to main (threshold 1) and survives a scan.
    const scan = [...'abcdefghijklmnop'].map((id) => ({ id, size: oneBlock }));
    const trace = [{ id: 'x', size: oneBlock }, { id: 'x', size: oneBlock }, ...scan, { id: 'x', size: oneBlock }];
    expect(s3fifoHits(trace, 10, FIRMWARE_LIMITS, 1)).toBe(2);
    expect(lruHits(trace, 10)).toBe(1);  // the scan flushed x from LRU
  });

  it('W-TinyLFU: the window keeps the newest clip; main admits only the more frequent', () => {
    // x is played often, then a scan of one-off clips: TinyLFU does not let them push x out of main.
    const trace = [...Array(6).fill('x'), ...'abcdefghij', 'x'].map((id: string) => ({ id, size: oneBlock }));
    expect(wTinyLfuHits(trace, 4)).toBe(6);
    expect(lruHits(trace, 4)).toBe(5);
    // "Again!": the immediate repeat of a new clip is a hit (it is in the window).
    expect(wTinyLfuHits(plays('aabbcc'), 4)).toBe(3);
  });

  it('none stores a clip bigger than the whole budget or than 64 blocks', () => {
    const big = [{ id: 'x', size: 10 * BLOCK_BYTES }, { id: 'x', size: 10 * BLOCK_BYTES }];
    for (const name of names) expect(OFFLINE_POLICIES[name](big, 4)).toBe(0);
    const huge = [{ id: 'y', size: 65 * BLOCK_BYTES }, { id: 'y', size: 65 * BLOCK_BYTES }];
    for (const name of names) expect(OFFLINE_POLICIES[name](huge, 256)).toBe(0);
  });

  it('all keep at most 48 clips, as the store has 48 index slots', () => {
    // 49 one-block clips cycled in a 256-block budget: with a 48-clip limit every policy must miss.
    const cycle = Array.from({ length: 49 }, (_, i) => ({ id: `c${i}`, size: oneBlock }));
    const trace = [...cycle, ...cycle];
    expect(lruHits(trace, 256)).toBe(0);  // LRU's pathological cycle
    expect(beladyHits(trace, 256)).toBe(48);
  });

  it("Belady's optimal is at or above every policy, the firmware's included (equal-sized clips, any trace, any budget)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 14 }), { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (ids, budget) => {
        const trace = ids.map((i) => ({ id: `c${i}`, size: oneBlock }));
        const optimal = beladyHits(trace, budget);
        for (const name of names) expect(optimal).toBeGreaterThanOrEqual(OFFLINE_POLICIES[name](trace, budget));
        expect(optimal).toBeGreaterThanOrEqual(firmwareHits(trace, budget));
      }),
      { numRuns: 400, seed: 42 },
    );
  });

  it('hits never exceed plays minus distinct clips, and reach it when everything fits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.integer({ min: 1, max: 16 }), (ids, budget) => {
        // One size per clip id (1 to 4 blocks), as with real clips.
        const trace = ids.map((id) => ({ id: `c${id}`, size: (1 + (id % 4)) * BLOCK_BYTES - 64 }));
        const bound = trace.length - new Set(trace.map((p) => p.id)).size;
        for (const name of names) expect(OFFLINE_POLICIES[name](trace, budget)).toBeLessThanOrEqual(bound);
        expect(firmwareHits(trace, budget)).toBeLessThanOrEqual(bound);
        // 21 clips of at most 4 blocks fit 84 blocks: then only first plays miss (W-TinyLFU's admission aside).
        for (const name of ['belady', 'lru', 'sieve', 's3fifo'] as const) expect(OFFLINE_POLICIES[name](trace, 84)).toBe(bound);
        expect(firmwareHits(trace, 200)).toBe(bound);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('a bedtime week is seeded, at least 200 plays, and opens and closes each night with the starters', () => {
    const a = bedtimeWeek({ seed: 3, skew: 0.9 });
    expect(bedtimeWeek({ seed: 3, skew: 0.9 })).toEqual(a);
    expect(bedtimeWeek({ seed: 4, skew: 0.9 }).plays).not.toEqual(a.plays);
    expect(a.plays.length).toBeGreaterThanOrEqual(200);
    expect(a.nightStarts).toHaveLength(7);
    const greeting = a.plays[0]!.id;
    for (const start of a.nightStarts) expect(a.plays[start]!.id).toBe(greeting);
    expect(a.plays.at(-1)!.id).not.toBe(greeting);
  });
});
