import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from '../../protocol/index.js';
import { beladyHits, lruHits, type Play } from '../../simulator/offline-policies.js';

const oneBlock = BLOCK_BYTES - 64;
const plays = (ids: string, size = oneBlock): Play[] => [...ids].map((id) => ({ id, size }));

describe('offline policies', () => {
  it('LRU on a textbook sequence', () => {
    // Capacity 2: a b a c b -> hits: a(2nd); c evicts b; b misses.
    expect(lruHits(plays('abacb'), 2)).toBe(1);
  });

  it('Belady on the same sequence keeps what is needed soonest', () => {
    // Capacity 2: at c, a is never used again, so a goes and b hits.
    expect(beladyHits(plays('abacb'), 2)).toBe(2);
  });

  it('neither stores a clip bigger than the whole budget', () => {
    const big = [{ id: 'x', size: 10 * BLOCK_BYTES }, { id: 'x', size: 10 * BLOCK_BYTES }];
    expect(lruHits(big, 4)).toBe(0);
    expect(beladyHits(big, 4)).toBe(0);
  });

  it("Belady's optimal never has fewer hits than LRU (equal-sized clips, any trace, any budget)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 300 }), fc.integer({ min: 1, max: 10 }), (ids, budget) => {
        const trace = ids.map((i) => ({ id: `c${i}`, size: oneBlock }));
        expect(beladyHits(trace, budget)).toBeGreaterThanOrEqual(lruHits(trace, budget));
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('hits never exceed plays minus distinct clips (every first play is a compulsory miss)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.integer({ min: 1, max: 16 }), (ids, budget) => {
        // One size per clip id (1 to 4 blocks), as with real clips.
        const trace = ids.map((id) => ({ id: `c${id}`, size: (1 + (id % 4)) * BLOCK_BYTES - 64 }));
        const bound = trace.length - new Set(trace.map((p) => p.id)).size;
        expect(beladyHits(trace, budget)).toBeLessThanOrEqual(bound);
        expect(lruHits(trace, budget)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
