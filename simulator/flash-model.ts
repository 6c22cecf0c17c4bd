/**
 * The bear's flash clip cache, modelled exactly as the firmware implements it
 * (the policy in the team contract, C++ in firmware/lib/teddy_core clip_store;
 * docs/simulator.md maps each rule to the C++). The simulator runs one model
 * per virtual bear, so the flash hit rate it reports is the one real bears
 * would see on the same traffic.
 *
 * Rules (GDSF; block arithmetic and store limits: protocol/flash-budget.ts):
 * - Each clip has freq (uint8, saturating), priority H (uint32), lastUse
 *   (uint32 logical clock) and pinned; the store has an inflation value L.
 * - Hit: freq += 1, H = L + floor(freq * 4096 / blocks), lastUse = ++clock.
 * - Insert: lastUse = ++clock; while it does not fit evict the unpinned clip
 *   with the smallest (H, lastUse), L = its H (and it enters the ghost);
 *   none left -> NoSpace; then freq and H as the ghost rule says.
 * - When L reaches 2^31: every H = max(0, H - L), L = 0.
 * - Ghost: 16 entries of (first 4 id bytes, freq) of evicted clips, the
 *   entry chosen by the id's first byte mod 16 (a later eviction there
 *   replaces it). A clip inserted while its entry holds its key comes back
 *   with freq = min(255, 1 + the ghost freq), the entry is emptied, and H = L
 *   + floor(freq * 4096 / blocks); any other new clip gets freq = 1 and half
 *   a play's worth, H = L + floor(2048 / blocks).
 * - On-demand admission only if the clip takes <= 1/2 of the budget's blocks.
 * - Warm manifests pin what they list as pinned, unpin what they no longer
 *   list, insert in priority order; applied only if newer than the last one.
 * - Reboot: L = 0, freq = 1, H = floor(4096 / blocks), lastUse in index
 *   (slot) order; pinned persists.
 * - When all index slots are taken, one more clip is evicted for a slot.
 * - A clip larger than the per-clip limit, or than the budget, is refused
 *   (TooLarge) before anything is evicted.
 */
import { budgetBlocks as wholeBlocks, clipBlocks, FIRMWARE_LIMITS, type ClipStoreLimits } from '../protocol/index.js';

const FREQ_MAX = 0xff;
const CLOCK_MOD = 0x1_0000_0000;
/** H per play per block (C++: kPriorityScale). */
const PRIORITY_SCALE = 4096;
/** L at which priorities are renormalized (C++: kInflationLimit). */
const INFLATION_LIMIT = 0x8000_0000;
/** Evicted clips remembered (C++: kGhostEntries). */
const GHOST_ENTRIES = 16;
/** A ghost entry's key: the clip id's first 4 bytes (ids are digests); its place: the first byte mod 16. */
const ghostKey = (id: string): string => id.slice(0, 8);
const ghostIndex = (id: string): number => Number.parseInt(id.slice(0, 2), 16) & (GHOST_ENTRIES - 1);

interface Slot {
  id: string;
  size: number;
  blocks: number;
  freq: number;
  priority: number;
  lastUse: number;
  pinned: boolean;
}

export type InsertResult = 'stored' | 'present' | 'tooLarge' | 'noSpace';

export interface WarmClip {
  /** Clip id, hex. */
  id: string;
  size: number;
  pinned: boolean;
  /** 0 is stored first. */
  priority: number;
}

export interface FlashStats {
  hits: number;
  misses: number;
  evictions: number;
  inserts: number;
  usedBlocks: number;
  budgetBlocks: number;
  clips: number;
}

export interface FlashModel {
  readonly budgetBlocks: number;
  has(id: string): boolean;
  /** A play of this clip: true (and bookkeeping) if it is in flash. */
  play(id: string): boolean;
  /** Stores a clip downloaded because it was played and missing, if admission allows. */
  admitOnDemand(id: string, size: number): InsertResult;
  /** Applies a warm manifest; undefined if its seq is not newer than the last one applied. */
  applyWarm(seq: number, clips: readonly WarmClip[]): { stored: string[]; failed: string[] } | undefined;
  readonly warmSeq: number;
  reboot(): void;
  /** Clip ids in index (slot) order. */
  ids(): string[];
  stats(): FlashStats;
}

export function createFlashModel(budgetBytes: number, limits: ClipStoreLimits = FIRMWARE_LIMITS): FlashModel {
  const budgetBlocks = Math.min(wholeBlocks(budgetBytes), limits.maxBudgetBlocks);
  // Index slots as the firmware keeps them: a freed slot is reused by the next insert.
  const slots: (Slot | undefined)[] = [];
  const byId = new Map<string, Slot>();
  let clock = 0;
  let inflation = 0;
  let ghost: { key: string; freq: number }[] = [];  // GHOST_ENTRIES entries; freq 0 = empty
  let usedBlocks = 0;
  let warmSeq = 0;
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  let inserts = 0;

  const tick = (): number => (clock = (clock + 1) % CLOCK_MOD);
  const priorityOf = (s: Slot): number => inflation + Math.floor((s.freq * PRIORITY_SCALE) / s.blocks);

  const evictOne = (): boolean => {
    let victim: Slot | undefined;
    for (const s of byId.values()) {
      if (s.pinned) continue;
      if (!victim || s.priority < victim.priority || (s.priority === victim.priority && s.lastUse < victim.lastUse)) victim = s;
    }
    if (!victim) return false;
    ghost[ghostIndex(victim.id)] = { key: ghostKey(victim.id), freq: victim.freq };
    inflation = victim.priority;
    if (inflation >= INFLATION_LIMIT) {
      for (const s of byId.values()) s.priority = Math.max(0, s.priority - inflation);
      inflation = 0;
    }
    slots[slots.indexOf(victim)] = undefined;
    byId.delete(victim.id);
    usedBlocks -= victim.blocks;
    evictions++;
    return true;
  };

  const insert = (id: string, size: number, pinned: boolean): InsertResult => {
    const existing = byId.get(id);
    if (existing) {
      existing.pinned = pinned;
      return 'present';
    }
    const blocks = clipBlocks(size);
    // Refused before the clock moves or anything is evicted, as the store does.
    if (size === 0 || blocks > limits.maxClipBlocks || blocks > budgetBlocks) return 'tooLarge';
    const slot: Slot = { id, size, blocks, freq: 1, priority: 0, lastUse: tick(), pinned };
    while (usedBlocks + slot.blocks > budgetBlocks) if (!evictOne()) return 'noSpace';
    // Every index slot taken: one more clip goes, for its slot.
    if (byId.size >= limits.maxClips && !evictOne()) return 'noSpace';
    const entry = ghost[ghostIndex(id)];
    const remembered = entry !== undefined && entry.freq > 0 && entry.key === ghostKey(id);
    if (remembered) {
      slot.freq = Math.min(FREQ_MAX, 1 + entry.freq);
      ghost[ghostIndex(id)] = { key: '', freq: 0 };
    }
    // After the evictions (L is the last victim's H); a clip new to the bear starts at half a play.
    slot.priority = remembered ? priorityOf(slot) : inflation + Math.floor(PRIORITY_SCALE / 2 / slot.blocks);
    const free = slots.indexOf(undefined);
    if (free >= 0) slots[free] = slot;
    else slots.push(slot);
    byId.set(id, slot);
    usedBlocks += slot.blocks;
    inserts++;
    return 'stored';
  };

  return {
    budgetBlocks,
    has: (id) => byId.has(id),
    play(id) {
      const s = byId.get(id);
      if (!s) {
        misses++;
        return false;
      }
      hits++;
      s.freq = Math.min(FREQ_MAX, s.freq + 1);
      s.priority = priorityOf(s);
      s.lastUse = tick();
      return true;
    },
    admitOnDemand(id, size) {
      if (byId.has(id)) return 'present';
      if (clipBlocks(size) * 2 > budgetBlocks) return 'tooLarge';
      return insert(id, size, false);
    },
    applyWarm(seq, clips) {
      if (seq <= warmSeq) return undefined;
      warmSeq = seq;
      const listed = new Map(clips.map((c) => [c.id, c]));
      for (const s of byId.values()) s.pinned = listed.get(s.id)?.pinned ?? false;
      const stored: string[] = [];
      const failed: string[] = [];
      const ordered = clips.map((c, i) => ({ c, i })).sort((a, b) => a.c.priority - b.c.priority || a.i - b.i);
      for (const { c } of ordered) {
        const r = insert(c.id, c.size, c.pinned);
        (r === 'stored' || r === 'present' ? stored : failed).push(c.id);
      }
      return { stored, failed };
    },
    get warmSeq() {
      return warmSeq;
    },
    reboot() {
      clock = 0;
      inflation = 0;
      ghost = [];  // RAM only
      for (const s of slots) {
        if (!s) continue;
        s.freq = 1;
        s.priority = priorityOf(s);
        s.lastUse = ++clock;
      }
    },
    ids: () => slots.filter((s): s is Slot => s !== undefined).map((s) => s.id),
    stats: () => ({ hits, misses, evictions, inserts, usedBlocks, budgetBlocks, clips: byId.size }),
  };
}
