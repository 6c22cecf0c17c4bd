// The replacement policy as pure logic (teddy/clip_policy.h); the simulator's
// model (simulator/flash-model.ts) follows the same rules.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "teddy/clip_policy.h"

using teddy::ClipPolicy;
using teddy::PolicyState;

namespace {
void insert(ClipPolicy& p, PolicyState* s, size_t slot) {
  p.placed(slot, p.beginInsert());
  s[slot].live = true;
}
}  // namespace

TEST_CASE("blocks count the 64-byte header and round up") {
  CHECK(teddy::clipBlocks(1, 4096) == 1);
  CHECK(teddy::clipBlocks(4032, 4096) == 1);
  CHECK(teddy::clipBlocks(4033, 4096) == 2);
  CHECK(teddy::clipBlocks(20000, 4096) == 5);
}

TEST_CASE("on-demand clips are admitted only up to 1/8 of the budget") {
  CHECK(teddy::admitOnDemand(32, 256));
  CHECK_FALSE(teddy::admitOnDemand(33, 256));
  CHECK_FALSE(teddy::admitOnDemand(1, 7));
}

TEST_CASE("the victim is the least frequently used, then the least recently used, never a pinned one") {
  PolicyState s[4];
  ClipPolicy p(s, 4);
  for (size_t i = 0; i < 3; ++i) insert(p, s, i);
  CHECK(p.victim(-1) == 0);  // all freq 1: the oldest
  p.hit(0);
  CHECK(p.victim(-1) == 1);  // 0 is now more frequent
  p.hit(1);
  p.hit(1);
  CHECK(p.victim(-1) == 2);
  s[2].pinned = true;
  CHECK(p.victim(-1) == 0);
  CHECK(p.victim(0) == 1);  // `except` is skipped
  s[0].pinned = s[1].pinned = true;
  CHECK(p.victim(-1) == -1);
}

TEST_CASE("every 256 ticks all frequencies halve, so old favourites fade") {
  PolicyState s[2];
  ClipPolicy p(s, 2);
  insert(p, s, 0);  // tick 1
  for (int i = 0; i < 100; ++i) p.hit(0);  // ticks 2..101: freq 101
  insert(p, s, 1);  // tick 102
  CHECK(s[0].freq == 101);
  for (int i = 0; i < 154; ++i) p.hit(1);  // ticks 103..256: aging at 256 halves both
  CHECK(s[0].freq == 50);
  CHECK(s[1].freq == (1 + 154) / 2);
}

TEST_CASE("frequency saturates instead of wrapping") {
  PolicyState s[1];
  ClipPolicy p(s, 1);
  insert(p, s, 0);
  s[0].freq = UINT16_MAX;
  p.hit(0);
  CHECK(s[0].freq == UINT16_MAX);
}

TEST_CASE("a reboot restarts frequencies and orders recency by slot") {
  PolicyState s[3];
  ClipPolicy p(s, 3);
  insert(p, s, 2);
  insert(p, s, 0);
  p.hit(2);
  p.rebooted();
  CHECK(s[0].freq == 1);
  CHECK(s[0].lastUse == 1);
  CHECK(s[2].lastUse == 2);
  CHECK(p.victim(-1) == 0);
}
