#include "teddy/clip_policy.h"

namespace teddy {

uint32_t clipBlocks(uint32_t size, uint32_t blockSize) { return (size + kClipHeaderBytes + blockSize - 1) / blockSize; }

bool admitOnDemand(uint32_t blocks, uint32_t budgetBlocks) { return blocks * 8 <= budgetBlocks; }

uint32_t ClipPolicy::tick() {
  clock_ += 1;  // wraps at 2^32 like the model's uint32 clock
  if (clock_ % kAgingPeriod == 0) {
    for (size_t i = 0; i < count_; ++i) {
      if (slots_[i].live) slots_[i].freq = static_cast<uint16_t>(slots_[i].freq >> 1);
    }
  }
  return clock_;
}

void ClipPolicy::hit(size_t slot) {
  PolicyState& s = slots_[slot];
  if (s.freq < UINT16_MAX) s.freq = static_cast<uint16_t>(s.freq + 1);
  s.lastUse = tick();
}

void ClipPolicy::placed(size_t slot, uint32_t lastUse) {
  slots_[slot].freq = 1;
  slots_[slot].lastUse = lastUse;
}

int ClipPolicy::victim(int except) const {
  int best = -1;
  for (size_t i = 0; i < count_; ++i) {
    const PolicyState& s = slots_[i];
    if (!s.live || s.pinned || static_cast<int>(i) == except) continue;
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const PolicyState& b = slots_[best];
    if (s.freq < b.freq || (s.freq == b.freq && s.lastUse < b.lastUse)) best = static_cast<int>(i);
  }
  return best;
}

void ClipPolicy::rebooted() {
  clock_ = 0;
  for (size_t i = 0; i < count_; ++i) {
    if (!slots_[i].live) continue;
    slots_[i].freq = 1;
    slots_[i].lastUse = ++clock_;
  }
}

}  // namespace teddy
