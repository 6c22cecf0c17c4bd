/**
 * Yardsticks for the bear's flash policy, replayed offline on a bear's plays
 * under the same constraints as the firmware's clip store: the same block
 * budget, the same index slots (48) and per-clip limit (64 blocks), clip
 * sizes in 4 KiB blocks (protocol/flash-budget.ts). All fetch on demand only
 * (a miss stores the clip if the policy admits it); the bear's own policy
 * can also get warm pushes.
 *
 * - Belady (optimal for equal-sized clips): evict what is needed furthest in
 *   the future; bypass a clip needed later than everything it would
 *   displace. With sizes it is the standard furthest-next-use heuristic, a
 *   near-optimal upper reference.
 * - LRU, storing every clip that fits.
 * - SIEVE (Zhang et al., NSDI'24): one FIFO queue with a visited bit and a
 *   hand that walks from the oldest entry, clearing visited bits, to the
 *   first unvisited entry, which it evicts; hits only set the bit.
 * - S3-FIFO (Yang et al., SOSP'23, Algorithm 1): a small FIFO (10 % of the
 *   space) for new clips, a main FIFO with reinsertion, a ghost FIFO of
 *   recently evicted ids; 2-bit frequency per clip. A clip leaving the small
 *   queue goes to main if it was hit there (more than once, or at all: both
 *   variants are offered), else to the ghost; a miss on a ghost id goes
 *   straight to main.
 * - W-TinyLFU (Einziger et al., ACM TOS 2017; Caffeine): an LRU window, then
 *   a segmented-LRU main (80 % protected), admitting the window's victim into
 *   main only if it was played more often than main's victim. The window is
 *   1 % of the space (the paper's default) or 20 % (where Caffeine's hill
 *   climber moves it on recency-heavy traces), and always holds at least the
 *   newest clip; the yardstick takes the better of the two on each trace.
 *   Frequencies are exact counts halved every 10 × capacity plays (TinyLFU's
 *   reset) instead of a count-min sketch: no collisions, so an upper bound
 *   of the sketch's accuracy.
 */
import { clipBlocks, FIRMWARE_LIMITS, type ClipStoreLimits } from '../protocol/index.js';

export interface Play {
  /** Clip id, hex. */
  id: string;
  size: number;
}

export type PolicyName = 'belady' | 'lru' | 'sieve' | 's3fifo' | 'wtinylfu';

/** Blocks a clip takes, or undefined if the store could never hold it (too large for a clip or the budget). */
function storable(size: number, budgetBlocks: number, limits: ClipStoreLimits): number | undefined {
  const blocks = clipBlocks(size);
  return size > 0 && blocks <= limits.maxClipBlocks && blocks <= budgetBlocks ? blocks : undefined;
}

/** Room for one more clip of `blocks` blocks given what is used. */
const roomFor = (usedBlocks: number, clips: number, blocks: number, budgetBlocks: number, limits: ClipStoreLimits) =>
  usedBlocks + blocks <= budgetBlocks && clips < limits.maxClips;

export function lruHits(plays: readonly Play[], budgetBlocks: number, limits: ClipStoreLimits = FIRMWARE_LIMITS): number {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recent.
  const cache = new Map<string, number>();
  let used = 0;
  let hits = 0;
  for (const { id, size } of plays) {
    const blocks = cache.get(id);
    if (blocks !== undefined) {
      hits++;
      cache.delete(id);
      cache.set(id, blocks);
      continue;
    }
    const need = storable(size, budgetBlocks, limits);
    if (need === undefined) continue;
    for (const [victim, b] of cache) {
      if (roomFor(used, cache.size, need, budgetBlocks, limits)) break;
      cache.delete(victim);
      used -= b;
    }
    cache.set(id, need);
    used += need;
  }
  return hits;
}

export function beladyHits(plays: readonly Play[], budgetBlocks: number, limits: ClipStoreLimits = FIRMWARE_LIMITS): number {
  // nextUse[i]: index of the next play of the same clip after i, or Infinity.
  const nextUse = new Array<number>(plays.length);
  const seen = new Map<string, number>();
  for (let i = plays.length - 1; i >= 0; i--) {
    const id = plays[i]!.id;
    nextUse[i] = seen.get(id) ?? Infinity;
    seen.set(id, i);
  }
  const cache = new Map<string, { blocks: number; next: number }>();
  let used = 0;
  let hits = 0;
  plays.forEach(({ id, size }, i) => {
    const held = cache.get(id);
    if (held) {
      hits++;
      held.next = nextUse[i]!;
      return;
    }
    const need = storable(size, budgetBlocks, limits);
    const next = nextUse[i]!;
    if (need === undefined || next === Infinity) return;  // never needed again: not worth a slot
    const victims: string[] = [];
    let free = budgetBlocks - used;
    let slots = limits.maxClips - cache.size;
    // Furthest next use first; stop (bypass) once the newcomer itself would be the furthest.
    const byFurthest = [...cache].sort((a, b) => b[1].next - a[1].next);
    for (const [victimId, v] of byFurthest) {
      if (free >= need && slots > 0) break;
      if (v.next <= next) return;
      victims.push(victimId);
      free += v.blocks;
      slots++;
    }
    if (free < need || slots <= 0) return;
    for (const v of victims) {
      used -= cache.get(v)!.blocks;
      cache.delete(v);
    }
    cache.set(id, { blocks: need, next });
    used += need;
  });
  return hits;
}

export function sieveHits(plays: readonly Play[], budgetBlocks: number, limits: ClipStoreLimits = FIRMWARE_LIMITS): number {
  // queue[0] is the oldest; the hand is an index into it, moving towards the newest, wrapping.
  const queue: { id: string; blocks: number; visited: boolean }[] = [];
  const byId = new Map<string, { id: string; blocks: number; visited: boolean }>();
  let hand = 0;
  let used = 0;
  let hits = 0;
  const evictOne = () => {
    for (;;) {
      if (hand >= queue.length) hand = 0;
      const e = queue[hand]!;
      if (!e.visited) break;
      e.visited = false;
      hand++;
    }
    const [victim] = queue.splice(hand, 1);
    byId.delete(victim!.id);
    used -= victim!.blocks;
    // The hand stays where the victim was: the next older-to-newer candidate is now at `hand`.
  };
  for (const { id, size } of plays) {
    const held = byId.get(id);
    if (held) {
      hits++;
      held.visited = true;
      continue;
    }
    const need = storable(size, budgetBlocks, limits);
    if (need === undefined) continue;
    while (!roomFor(used, byId.size, need, budgetBlocks, limits)) evictOne();
    const e = { id, blocks: need, visited: false };
    queue.push(e);  // newest at the end
    byId.set(id, e);
    used += need;
  }
  return hits;
}

/**
 * `moveToMain`: hits in the small queue that earn a move to main. Algorithm 1 of the paper moves a
 * clip "accessed more than once" (2); libCacheSim's default moves one accessed at all (1).
 */
export function s3fifoHits(plays: readonly Play[], budgetBlocks: number, limits: ClipStoreLimits = FIRMWARE_LIMITS, moveToMain = 2): number {
  type Entry = { id: string; blocks: number; freq: number; inSmall: boolean };
  const small: Entry[] = [];  // FIFO: index 0 is the tail (oldest)
  const main: Entry[] = [];
  const ghost: string[] = [];  // ids, oldest first
  const ghostSet = new Set<string>();
  const byId = new Map<string, Entry>();
  const smallTarget = Math.max(1, Math.floor(budgetBlocks / 10));
  let smallBlocks = 0;
  let mainBlocks = 0;
  let hits = 0;
  const toGhost = (id: string) => {
    ghost.push(id);
    ghostSet.add(id);
    // The ghost remembers about as many ids as main holds clips.
    while (ghost.length > Math.max(main.length, 1)) ghostSet.delete(ghost.shift()!);
  };
  const evictMain = () => {
    for (;;) {
      const t = main.shift()!;
      if (t.freq > 0) {
        t.freq--;
        main.push(t);  // reinserted at the head
        continue;
      }
      byId.delete(t.id);
      mainBlocks -= t.blocks;
      return;
    }
  };
  const evictSmall = () => {
    while (small.length > 0) {
      const t = small.shift()!;
      smallBlocks -= t.blocks;
      if (t.freq >= moveToMain) {
        t.inSmall = false;
        t.freq = 0;
        main.push(t);
        mainBlocks += t.blocks;
        continue;  // moved, not evicted: keep looking (main makes its own room when the whole cache is full)
      }
      byId.delete(t.id);
      toGhost(t.id);
      return;
    }
  };
  const evict = () => {
    if (small.length > 0 && (smallBlocks >= smallTarget || main.length === 0)) evictSmall();
    else evictMain();
  };
  for (const { id, size } of plays) {
    const held = byId.get(id);
    if (held) {
      hits++;
      held.freq = Math.min(3, held.freq + 1);
      continue;
    }
    const need = storable(size, budgetBlocks, limits);
    if (need === undefined) continue;
    while (!roomFor(smallBlocks + mainBlocks, byId.size, need, budgetBlocks, limits)) evict();
    const e: Entry = { id, blocks: need, freq: 0, inSmall: !ghostSet.has(id) };
    if (e.inSmall) {
      small.push(e);
      smallBlocks += need;
    } else {
      ghostSet.delete(id);
      ghost.splice(ghost.indexOf(id), 1);
      main.push(e);
      mainBlocks += need;
    }
    byId.set(id, e);
  }
  return hits;
}

export function wTinyLfuHits(plays: readonly Play[], budgetBlocks: number, limits: ClipStoreLimits = FIRMWARE_LIMITS, windowShare = 0.01): number {
  type Entry = { id: string; blocks: number; segment: 'window' | 'probation' | 'protected' };
  // Maps in insertion order are the LRU lists (first = least recent).
  const window = new Map<string, Entry>();
  const probation = new Map<string, Entry>();
  const protectedSeg = new Map<string, Entry>();
  const windowTarget = Math.max(1, Math.round(budgetBlocks * windowShare));
  const protectedTarget = Math.floor((budgetBlocks - windowTarget) * 0.8);
  const blocksOf = (m: Map<string, Entry>) => [...m.values()].reduce((s, e) => s + e.blocks, 0);
  const count = new Map<string, number>();
  const sampleSize = 10 * Math.max(limits.maxClips, 1);
  let sampled = 0;
  let hits = 0;
  const freq = (id: string) => count.get(id) ?? 0;
  const record = (id: string) => {
    count.set(id, freq(id) + 1);
    if (++sampled >= sampleSize) {
      sampled = 0;  // TinyLFU's reset: every count halves
      for (const [k, v] of count) if (v >> 1) count.set(k, v >> 1);
      else count.delete(k);
    }
  };
  const lru = (m: Map<string, Entry>) => m.values().next().value as Entry | undefined;
  const touch = (m: Map<string, Entry>, e: Entry) => {
    m.delete(e.id);
    m.set(e.id, e);
  };
  const clips = () => window.size + probation.size + protectedSeg.size;
  const used = () => blocksOf(window) + blocksOf(probation) + blocksOf(protectedSeg);
  const mainRoom = (need: number) => used() + need <= budgetBlocks && clips() < limits.maxClips;
  const admitToMain = (candidate: Entry) => {
    // Make room in main, victim by victim (probation's LRU first), while the candidate is the more frequent.
    while (!mainRoom(candidate.blocks)) {
      const victim = lru(probation) ?? lru(protectedSeg);
      if (!victim || freq(candidate.id) <= freq(victim.id)) return;  // rejected
      (victim.segment === 'probation' ? probation : protectedSeg).delete(victim.id);
    }
    candidate.segment = 'probation';
    probation.set(candidate.id, candidate);
  };
  for (const { id, size } of plays) {
    record(id);
    const held = window.get(id) ?? probation.get(id) ?? protectedSeg.get(id);
    if (held) {
      hits++;
      if (held.segment === 'window') touch(window, held);
      else if (held.segment === 'protected') touch(protectedSeg, held);
      else {
        probation.delete(id);
        held.segment = 'protected';
        protectedSeg.set(id, held);
        while (blocksOf(protectedSeg) > protectedTarget && protectedSeg.size > 1) {
          const demoted = lru(protectedSeg)!;
          protectedSeg.delete(demoted.id);
          demoted.segment = 'probation';
          probation.set(demoted.id, demoted);
        }
      }
      continue;
    }
    const need = storable(size, budgetBlocks, limits);
    if (need === undefined) continue;
    const e: Entry = { id, blocks: need, segment: 'window' };
    window.set(id, e);
    // The window's overflow are candidates for main.
    while (blocksOf(window) > windowTarget && window.size > 1) {
      const candidate = lru(window)!;
      window.delete(candidate.id);
      admitToMain(candidate);
    }
    // Still over (a full slot table with the window's clip inside): main's LRU victims go.
    while (used() > budgetBlocks || clips() > limits.maxClips) {
      const victim = lru(probation) ?? lru(protectedSeg) ?? lru(window)!;
      ({ window, probation, protected: protectedSeg } as const)[victim.segment].delete(victim.id);
    }
  }
  return hits;
}

/** Every yardstick by name. */
export const OFFLINE_POLICIES: Record<PolicyName, (plays: readonly Play[], budgetBlocks: number, limits?: ClipStoreLimits) => number> = {
  belady: beladyHits,
  lru: lruHits,
  sieve: sieveHits,
  // The better of the two move-to-main thresholds on each trace: the yardstick at its best.
  s3fifo: (plays, budgetBlocks, limits) => Math.max(s3fifoHits(plays, budgetBlocks, limits, 1), s3fifoHits(plays, budgetBlocks, limits, 2)),
  wtinylfu: (plays, budgetBlocks, limits) =>
    Math.max(wTinyLfuHits(plays, budgetBlocks, limits, 0.01), wTinyLfuHits(plays, budgetBlocks, limits, 0.2)),
};
