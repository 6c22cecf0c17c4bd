#include "teddy/clip_policy.h"

namespace teddy {

uint32_t clipBlocks(uint32_t size, uint32_t blockSize) { return (size + kClipHeaderBytes + blockSize - 1) / blockSize; }

void ClipPolicy::hit(size_t slot) {
  PolicyState& s = slots_[slot];
  if (s.freq < UINT8_MAX) s.freq = static_cast<uint8_t>(s.freq + 1);
  s.priority = priorityOf(s);
  s.lastUse = ++clock_;  // wraps at 2^32 like the model's uint32 clock
}

void ClipPolicy::evicting(size_t slot, uint32_t key) {
  ghostKey_[key % kGhostEntries] = key;  // the id's first byte mod 16
  ghostFreq_[key % kGhostEntries] = slots_[slot].freq;
  inflation_ = slots_[slot].priority;
  if (inflation_ < kInflationLimit) return;
  // Renormalize: the same order, L back to 0 (a pinned clip's H may be below L: it stays lowest).
  for (size_t i = 0; i < count_; ++i) {
    PolicyState& s = slots_[i];
    s.priority = s.priority > inflation_ ? s.priority - inflation_ : 0;
  }
  inflation_ = 0;
}

void ClipPolicy::placed(size_t slot, uint32_t lastUse, uint32_t blocks, uint32_t key) {
  PolicyState& s = slots_[slot];
  s.blocks = static_cast<uint8_t>(blocks);
  s.lastUse = lastUse;
  s.freq = 1;
  s.priority = inflation_ + kPriorityScale / 2 / blocks;  // new to the bear: half a play
  uint8_t& remembered = ghostFreq_[key % kGhostEntries];
  if (remembered == 0 || ghostKey_[key % kGhostEntries] != key) return;
  s.freq = static_cast<uint8_t>(remembered < UINT8_MAX ? remembered + 1 : UINT8_MAX);  // played before: its count back
  remembered = 0;
  s.priority = priorityOf(s);
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
    if (s.priority < b.priority || (s.priority == b.priority && s.lastUse < b.lastUse)) best = static_cast<int>(i);
  }
  return best;
}

void ClipPolicy::rebooted() {
  clock_ = 0;
  inflation_ = 0;
  for (uint8_t& f : ghostFreq_) f = 0;
  for (size_t i = 0; i < count_; ++i) {
    PolicyState& s = slots_[i];
    if (!s.live) continue;
    s.freq = 1;
    s.priority = priorityOf(s);
    s.lastUse = ++clock_;
  }
}

}  // namespace teddy
