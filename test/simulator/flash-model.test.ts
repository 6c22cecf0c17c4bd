import { describe, expect, it } from 'vitest';
import { BLOCK_BYTES, clipBlocks } from '../../protocol/index.js';
import { createFlashModel, type WarmClip } from '../../simulator/flash-model.js';

/** A clip of exactly `blocks` blocks including its 64-byte header. */
const size = (blocks: number): number => blocks * BLOCK_BYTES - 64;
const warm = (id: string, blocks: number, priority: number, pinned = false): WarmClip => ({ id, size: size(blocks), priority, pinned });

describe('flash model: the firmware clip cache policy', () => {
  it('counts whole erase blocks including the 64-byte header; the budget rounds down', () => {
    expect(clipBlocks(0)).toBe(1);
    expect(clipBlocks(4032)).toBe(1);
    expect(clipBlocks(4033)).toBe(2);
    expect(createFlashModel(10 * BLOCK_BYTES + 4095).budgetBlocks).toBe(10);
  });

  it('a hit bumps the clip; a miss is counted', () => {
    const f = createFlashModel(64 * BLOCK_BYTES);
    expect(f.admitOnDemand('a', size(1))).toBe('stored');
    expect(f.play('a')).toBe(true);
    expect(f.play('b')).toBe(false);
    expect(f.stats()).toMatchObject({ hits: 1, misses: 1, clips: 1, usedBlocks: 1 });
  });

  it('evicts the unpinned clip with the smallest (freq, lastUse)', () => {
    const f = createFlashModel(24 * BLOCK_BYTES); // on-demand limit: 3 blocks
    for (const id of ['a', 'b', 'c', 'd']) f.admitOnDemand(id, size(3)); // 12 blocks
    for (const id of ['e', 'g', 'h', 'i']) f.admitOnDemand(id, size(3)); // full: 24 blocks
    f.play('a');
    f.play('b'); // a and b now have freq 2; c is the oldest freq-1 clip
    expect(f.admitOnDemand('x', size(3))).toBe('stored');
    expect(f.has('c')).toBe(false);
    expect(f.admitOnDemand('y', size(3))).toBe('stored');
    expect(f.has('d')).toBe(false); // next oldest at freq 1
    expect(f.has('a') && f.has('b')).toBe(true);
    expect(f.stats().evictions).toBe(2);
  });

  it('breaks freq ties by lastUse: a recent play protects a clip', () => {
    const f = createFlashModel(16 * BLOCK_BYTES);
    for (const id of ['a', 'b', 'c', 'd']) f.admitOnDemand(id, size(2));
    for (const id of ['e', 'g', 'h', 'i']) f.admitOnDemand(id, size(2));
    for (const id of ['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i']) f.play(id); // all freq 2, a played first
    f.admitOnDemand('x', size(2));
    expect(f.has('a')).toBe(false);
    expect(f.has('b')).toBe(true);
  });

  it('admits an on-demand clip only if it takes at most 1/8 of the budget', () => {
    const f = createFlashModel(16 * BLOCK_BYTES);
    expect(f.admitOnDemand('small', size(2))).toBe('stored');
    expect(f.admitOnDemand('big', size(3))).toBe('tooLarge');
    expect(f.has('big')).toBe(false);
  });

  it('never evicts pinned clips; NoSpace when only pinned clips are left', () => {
    const f = createFlashModel(8 * BLOCK_BYTES);
    expect(f.applyWarm(1, [warm('p1', 4, 0, true), warm('p2', 3, 1, true)])?.failed).toEqual([]);
    expect(f.admitOnDemand('x', size(1))).toBe('stored'); // 8/8 used
    const second = f.applyWarm(2, [warm('p1', 4, 0, true), warm('p2', 3, 1, true), warm('big', 2, 2)]);
    expect(second).toEqual({ stored: ['p1', 'p2'], failed: ['big'] });
    expect(f.has('x')).toBe(false); // the one unpinned clip went trying to make room
    expect(f.has('p1') && f.has('p2')).toBe(true);
  });

  it('a later manifest that stops listing a clip unpins it; stale or replayed manifests are ignored', () => {
    const f = createFlashModel(8 * BLOCK_BYTES);
    f.applyWarm(5, [warm('p', 4, 0, true)]);
    expect(f.applyWarm(5, [warm('q', 4, 0, true)])).toBeUndefined();
    expect(f.applyWarm(4, [warm('q', 4, 0, true)])).toBeUndefined();
    expect(f.has('q')).toBe(false);
    expect(f.warmSeq).toBe(5);
    // seq 6 no longer lists p: p stays but can now be evicted for r.
    expect(f.applyWarm(6, [warm('q', 4, 0, true), warm('r', 4, 1, true)])).toEqual({ stored: ['q', 'r'], failed: [] });
    expect(f.has('p')).toBe(false);
  });

  it('inserts manifest clips in priority order, not list order', () => {
    const f = createFlashModel(4 * BLOCK_BYTES);
    const result = f.applyWarm(1, [warm('low', 2, 2, true), warm('top', 2, 0, true), warm('mid', 2, 1, true)]);
    expect(result).toEqual({ stored: ['top', 'mid'], failed: ['low'] });
  });

  it('ages every freq (>>= 1) when the clock reaches a multiple of 256', () => {
    const f = createFlashModel(64 * BLOCK_BYTES);
    f.admitOnDemand('hot', size(1)); // clock 1
    f.admitOnDemand('cold', size(1)); // clock 2
    for (let i = 0; i < 6; i++) f.play('hot'); // clock 8, hot freq 7
    for (let i = 0; i < 247; i++) f.play('cold'); // clock 255, cold freq 248
    // Without aging, hot (7) would lose to cold (248) for a long time; aging halves both at clock 256.
    f.play('hot'); // clock 256: hot 8 -> 4, cold 248 -> 124
    expect(f.stats().hits).toBe(254);
    // Fill the flash with one-off clips: the aged hot clip still outlives freq-1 newcomers.
    for (let i = 0; i < 80; i++) f.admitOnDemand(`n${i}`, size(1));
    expect(f.has('hot') && f.has('cold')).toBe(true);
  });

  it('refuses a clip larger than the budget or 64 blocks before evicting anything', () => {
    const f = createFlashModel(8 * BLOCK_BYTES);
    f.applyWarm(1, [warm('a', 4, 0), warm('b', 4, 1)]);
    expect(f.applyWarm(2, [warm('huge', 9, 0)])).toEqual({ stored: [], failed: ['huge'] });
    expect(f.ids()).toEqual(['a', 'b']);
    const big = createFlashModel(1024 * BLOCK_BYTES);
    expect(big.budgetBlocks).toBe(256); // capped at the store's data blocks (1 MiB)
    expect(big.applyWarm(1, [warm('x', 65, 0)])?.failed).toEqual(['x']);
    expect(big.applyWarm(2, [warm('y', 64, 0)])?.stored).toEqual(['y']);
  });

  it('has 48 index slots: the 49th clip evicts one for its slot even with blocks free', () => {
    const f = createFlashModel(256 * BLOCK_BYTES); // on-demand limit: 32 blocks
    for (let i = 0; i < 48; i++) f.admitOnDemand(`c${i}`, size(1));
    for (let i = 1; i < 48; i++) f.play(`c${i}`); // c0 is the coldest
    expect(f.admitOnDemand('new', size(1))).toBe('stored');
    expect(f.has('c0')).toBe(false);
    expect(f.ids()[0]).toBe('new'); // in the victim's slot
    expect(f.stats()).toMatchObject({ clips: 48, evictions: 1, usedBlocks: 48 });
  });

  it('saturates freq at 65535', () => {
    const f = createFlashModel(64 * BLOCK_BYTES);
    f.admitOnDemand('a', size(1));
    for (let i = 0; i < 70_000; i++) f.play('a');
    expect(f.stats().hits).toBe(70_000);
  });

  it('after a reboot, freq restarts at 1 and lastUse follows index order; pins persist', () => {
    const f = createFlashModel(8 * BLOCK_BYTES); // on-demand limit: 1 block
    f.applyWarm(1, [warm('pinned', 2, 0, true)]);
    for (const id of ['a', 'b', 'c', 'd', 'e', 'g']) f.admitOnDemand(id, size(1)); // full
    for (let i = 0; i < 5; i++) f.play('a'); // a is hot before the reboot
    f.reboot();
    expect(f.ids()).toEqual(['pinned', 'a', 'b', 'c', 'd', 'e', 'g']);
    f.admitOnDemand('x', size(1));
    f.admitOnDemand('y', size(1));
    // The reboot forgot a's popularity: a and b are first in index order and go; pinned stays.
    expect(f.ids()).toEqual(['pinned', 'x', 'y', 'c', 'd', 'e', 'g']);
  });

  it('reuses a freed index slot for the next insert', () => {
    const f = createFlashModel(8 * BLOCK_BYTES);
    const ids = ['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i'];
    for (const id of ids) f.admitOnDemand(id, size(1));
    for (const id of ids) if (id !== 'c') f.play(id);
    f.admitOnDemand('x', size(1));
    expect(f.ids()).toEqual(['a', 'b', 'x', 'd', 'e', 'g', 'h', 'i']);
  });
});
