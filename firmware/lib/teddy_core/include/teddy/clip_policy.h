// The flash clip cache's replacement policy, on its own so it can be tested
// as pure logic and so the simulator's model (simulator/flash-model.ts) can be
// checked rule by rule against it. GDSF, Greedy-Dual-Size-Frequency (Cherkasova
// 1998): a clip's worth is how often it is played per block it takes, on top
// of an inflation value L that ages everything evicted past. `npm run
// bench:flash` measured it against Belady, LRU, SIEVE, S3-FIFO and W-TinyLFU on
// a week of bedtimes per bear; it was at or above every one of them.
//
// - Space: a clip of `size` bytes takes ceil((size + 64) / 4096) blocks.
// - Per clip: freq (saturating uint8: 255 plays is "a favourite" enough),
//   priority H (uint32), lastUse (uint32 logical clock, for ties), pinned.
// - Hit: freq += 1; H = L + freq * 4096 / blocks; lastUse = tick().
// - Insert: lastUse = tick(); while it does not fit, evict the unpinned clip
//   with the smallest (H, lastUse), L = that clip's H, and it enters the
//   ghost; none left -> NoSpace (the evictions made so far stand).
// - Ghost: 16 entries of (first 4 id bytes, freq) of evicted clips, the entry
//   chosen by the id's first byte mod 16 (a later eviction there replaces
//   it). An inserted clip whose entry holds its key comes back with freq =
//   min(255, 1 + that freq), the entry is emptied, H = L + freq * 4096 /
//   blocks; any other new clip gets freq = 1 and half a play's worth,
//   H = L + 2048 / blocks (it must be played again to outrank an equal clip
//   already proven).
// - tick(): clock += 1.
// - When L reaches 2^31: every H -= L (at least 0), L = 0 (same order, no overflow).
// - On-demand admission: only clips taking <= 1/2 of the budget's blocks.
// - After a reboot: L = 0, the ghost empty, freq = 1, H = 4096 / blocks,
//   lastUse = 1, 2, ... in index slot order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teddy {

constexpr uint32_t kClipHeaderBytes = 64;
/** H per play per block: freq * kPriorityScale / blocks (freq <= 255: far from uint32 overflow). */
constexpr uint32_t kPriorityScale = 4096;
constexpr uint32_t kInflationLimit = 0x80000000u;
constexpr size_t kGhostEntries = 16;

struct PolicyState {  // 12 bytes on RV32
  uint32_t priority = 0;
  uint32_t lastUse = 0;
  uint8_t freq = 0;
  uint8_t blocks = 0;  // set when placed (or at mount); all-zero is the free state
  bool live = false;
  bool pinned = false;
};

/** Blocks a clip of `size` bytes occupies (header included). */
uint32_t clipBlocks(uint32_t size, uint32_t blockSize);

/** True if a clip downloaded on a flash miss may be stored at all. */
constexpr bool admitOnDemand(uint32_t blocks, uint32_t budgetBlocks) { return blocks * 2 <= budgetBlocks; }

class ClipPolicy {
 public:
  ClipPolicy(PolicyState* slots, size_t count) : slots_(slots), count_(count) {}

  void hit(size_t slot);
  /** Starts an insert: returns the new clip's lastUse. Call before evicting room. */
  uint32_t beginInsert() { return ++clock_; }
  /** A clip the store evicts (chosen by victim()): its H becomes L; `key` (its id's first 4 bytes, little-endian) enters the ghost. */
  void evicting(size_t slot, uint32_t key);
  /** Gives the new clip, now in `slot`, its first use (after the evictions that made room). */
  void placed(size_t slot, uint32_t lastUse, uint32_t blocks, uint32_t key);
  /** The slot to evict next, or -1 when every live clip is pinned. `except` is never chosen. */
  int victim(int except) const;
  /** Restarts after a reboot (each slot's `blocks` set): L 0, freq 1, lastUse by slot order. */
  void rebooted();

 private:
  uint32_t priorityOf(const PolicyState& s) const { return inflation_ + s.freq * kPriorityScale / s.blocks; }

  PolicyState* slots_;
  size_t count_;
  uint32_t clock_ = 0;
  uint32_t inflation_ = 0;  // L
  uint32_t ghostKey_[kGhostEntries] = {};
  uint8_t ghostFreq_[kGhostEntries] = {};  // 0 = empty
};

}  // namespace teddy
