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

  it('evicts the unpinned clip with the smallest (H, lastUse): equal sizes, the fewest plays', () => {
    const f = createFlashModel(24 * BLOCK_BYTES);
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

  it('weighs plays by size: one play of a 4-block clip is worth less than one of a 1-block clip', () => {
    const f = createFlashModel(8 * BLOCK_BYTES);
    f.admitOnDemand('small', size(1)); // H = 2048 (half a play: new to the bear)
    f.admitOnDemand('big', size(4)); // H = 512, and newer
    f.admitOnDemand('x', size(4)); // 3 blocks free: one clip must go
    expect(f.has('big')).toBe(false);
    expect(f.has('small')).toBe(true);
    // Played often enough, the big clip is worth more per block than a small one played once.
    f.admitOnDemand('big', size(4)); // evicts x; big comes back from the ghost: freq 2, H = 1024 + 2048
    for (let i = 0; i < 3; i++) f.play('big'); // H = 1024 + 5 * 4096 / 4 = 6144
    f.admitOnDemand('y', size(4));
    expect(f.has('small')).toBe(false);
    expect(f.has('big')).toBe(true);
  });

  it('remembers the plays of evicted clips (16 entries, by the id\'s first byte); a new clip starts at half a play', () => {
    const f = createFlashModel(3 * BLOCK_BYTES);
    const id = (first: string) => `${first}00000000000000`;
    f.admitOnDemand(id('a1'), size(1));
    for (let i = 0; i < 5; i++) f.play(id('a1')); // a: freq 6, H 24576
    f.admitOnDemand(id('b2'), size(1)); // H 2048
    f.admitOnDemand(id('c1'), size(1)); // H 2048: full
    f.admitOnDemand(id('d3'), size(1)); // evicts b (ghost entry 2, freq 1); L 2048, d: H 4096
    f.admitOnDemand(id('b2'), size(1)); // evicts c; b comes back with freq 2: H = 2048 + 8192
    f.admitOnDemand(id('e4'), size(1)); // evicts d; L 4096, e (new): H 4096 + 2048
    f.admitOnDemand(id('f5'), size(1)); // evicts e, not b: b's past play counts, e has only half of one
    expect(f.has(id('b2'))).toBe(true);
    expect(f.has(id('e4'))).toBe(false);
    expect(f.has(id('a1'))).toBe(true);
    f.reboot(); // the ghost is RAM only
    f.admitOnDemand(id('g6'), size(1)); // evicts in slot order after the reboot (all freq 1)
    f.admitOnDemand(id('e4'), size(1));
    expect(f.stats().evictions).toBe(6);
  });

  it('breaks H ties by lastUse: a recent play protects a clip', () => {
    const f = createFlashModel(16 * BLOCK_BYTES);
    for (const id of ['a', 'b', 'c', 'd']) f.admitOnDemand(id, size(2));
    for (const id of ['e', 'g', 'h', 'i']) f.admitOnDemand(id, size(2));
    for (const id of ['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i']) f.play(id); // all freq 2, a played first
    f.admitOnDemand('x', size(2));
    expect(f.has('a')).toBe(false);
    expect(f.has('b')).toBe(true);
  });

  it('admits an on-demand clip only if it takes at most 1/2 of the budget', () => {
    const f = createFlashModel(16 * BLOCK_BYTES);
    expect(f.admitOnDemand('small', size(8))).toBe('stored');
    expect(f.admitOnDemand('big', size(9))).toBe('tooLarge');
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

  it('ages by inflation: each eviction raises L, so old plays fade against new ones', () => {
    const f = createFlashModel(4 * BLOCK_BYTES);
    f.admitOnDemand('hot', size(1));
    for (let i = 0; i < 3; i++) f.play('hot'); // H = 4 * 4096
    // One-off clips keep coming, each played twice: every eviction lifts L to the victim's H.
    let rounds = 0;
    while (f.has('hot') && rounds < 50) {
      const id = `n${rounds++}`;
      f.admitOnDemand(id, size(1));
      f.play(id);
    }
    expect(rounds).toBeGreaterThan(3); // it outlived the first newcomers...
    expect(f.has('hot')).toBe(false); // ...but not forever (plain LFU would keep it)
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

  it('saturates freq at 255: a clip played 1000 times is worth 255 plays', () => {
    const f = createFlashModel(2 * BLOCK_BYTES);
    f.admitOnDemand('a', size(1));
    for (let i = 0; i < 1000; i++) f.play('a');
    f.admitOnDemand('b', size(1));
    for (let i = 0; i < 254; i++) f.play('b'); // b: 255 plays, a tie broken by lastUse: a is older
    f.admitOnDemand('c', size(1));
    expect(f.stats().hits).toBe(1254);
    expect(f.has('a')).toBe(false);
    expect(f.has('b')).toBe(true);
  });

  it('after a reboot, L and freq restart and lastUse follows index order; pins persist', () => {
    const f = createFlashModel(8 * BLOCK_BYTES);
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
