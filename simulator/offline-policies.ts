/**
 * Yardsticks for the bear's flash policy, replayed offline on the plays the
 * bear actually made in the run, at the same block budget:
 * - Belady's optimal (evict what is needed furthest in the future; with
 *   bypass: a clip needed later than everything it would displace is not
 *   stored). Optimal for equal-sized clips; with sizes it is the standard
 *   furthest-next-use heuristic, a near-optimal upper reference.
 * - Plain LRU, storing every clip that fits.
 * Both fetch on demand only; the bear's own policy also gets warm pushes, so
 * it can beat them on a cold start.
 */
import { clipBlocks } from '../protocol/index.js';

export interface Play {
  /** Clip id, hex. */
  id: string;
  size: number;
}

export function lruHits(plays: readonly Play[], budgetBlocks: number): number {
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
    const need = clipBlocks(size);
    if (need > budgetBlocks) continue;
    for (const [victim, b] of cache) {
      if (used + need <= budgetBlocks) break;
      cache.delete(victim);
      used -= b;
    }
    cache.set(id, need);
    used += need;
  }
  return hits;
}

export function beladyHits(plays: readonly Play[], budgetBlocks: number): number {
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
    const need = clipBlocks(size);
    if (need > budgetBlocks) return;
    const next = nextUse[i]!;
    const victims: string[] = [];
    let free = budgetBlocks - used;
    // Furthest next use first; stop (bypass) once the newcomer itself would be the furthest.
    const byFurthest = [...cache].sort((a, b) => b[1].next - a[1].next);
    for (const [victimId, v] of byFurthest) {
      if (free >= need) break;
      if (v.next <= next) return;
      victims.push(victimId);
      free += v.blocks;
    }
    if (free < need) return;
    for (const v of victims) {
      used -= cache.get(v)!.blocks;
      cache.delete(v);
    }
    cache.set(id, { blocks: need, next });
    used += need;
  });
  return hits;
}
