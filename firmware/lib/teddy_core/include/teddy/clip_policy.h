// The flash clip cache's replacement policy, on its own so it can be tested
// as pure logic and so the simulator's model (simulator/flash-model.ts) can be
// checked rule by rule against it:
//
// - Space: a clip of `size` bytes takes ceil((size + 64) / 4096) blocks.
// - Per clip: freq (saturating uint16), lastUse (uint32 logical clock), pinned.
// - Hit: freq += 1, then lastUse = tick().
// - Insert: lastUse = tick(), freq = 1; then while it does not fit, evict the
//   unpinned clip with the smallest (freq, lastUse); none left -> NoSpace
//   (the evictions made so far stand).
// - tick(): clock += 1; when clock % 256 == 0, every clip's freq >>= 1 (aging,
//   so yesterday's favourite does not stay forever).
// - On-demand admission: only clips taking <= 1/8 of the budget's blocks.
// - After a reboot: freq = 1 and lastUse = 1, 2, ... in index slot order.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teddy {

constexpr uint32_t kClipHeaderBytes = 64;
constexpr uint32_t kAgingPeriod = 256;

struct PolicyState {
  bool live = false;
  bool pinned = false;
  uint16_t freq = 0;
  uint32_t lastUse = 0;
};

/** Blocks a clip of `size` bytes occupies (header included). */
uint32_t clipBlocks(uint32_t size, uint32_t blockSize);

/** True if a clip downloaded on a flash miss may be stored at all. */
bool admitOnDemand(uint32_t blocks, uint32_t budgetBlocks);

class ClipPolicy {
 public:
  ClipPolicy(PolicyState* slots, size_t count) : slots_(slots), count_(count) {}

  void hit(size_t slot);
  /** Starts an insert: ages the clips held and returns the new clip's lastUse. Call before evicting room. */
  uint32_t beginInsert() { return tick(); }
  /** Gives the new clip, now in `slot`, its first use. */
  void placed(size_t slot, uint32_t lastUse);
  /** The slot to evict next, or -1 when every live clip is pinned. `except` is never chosen. */
  int victim(int except) const;
  /** Restarts the clock after a reboot: freq 1, lastUse by slot order. */
  void rebooted();

 private:
  uint32_t tick();

  PolicyState* slots_;
  size_t count_;
  uint32_t clock_ = 0;
};

}  // namespace teddy
