// The replacement policy (GDSF) as pure logic (teddy/clip_policy.h); the
// simulator's model (simulator/flash-model.ts) follows the same rules.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "teddy/clip_policy.h"

using teddy::ClipPolicy;
using teddy::kPriorityScale;
using teddy::PolicyState;

namespace {
/** Inserts clip `key` (its id's first 4 bytes) in `slot`. */
void insert(ClipPolicy& p, PolicyState* s, size_t slot, uint32_t blocks = 1, uint32_t key = 0) {
  const uint32_t lastUse = p.beginInsert();
  p.placed(slot, lastUse, blocks, key == 0 ? 1000 + static_cast<uint32_t>(slot) * 7 + lastUse : key);
  s[slot].live = true;
}
/** What the store does when it evicts: L takes the victim's priority, its key enters the ghost. */
int evict(ClipPolicy& p, PolicyState* s, uint32_t key = 0) {
  const int v = p.victim(-1);
  if (v >= 0) {
    p.evicting(static_cast<size_t>(v), key == 0 ? 0xdead0000u + static_cast<uint32_t>(v) : key);
    s[v] = PolicyState{};
  }
  return v;
}
}  // namespace

TEST_CASE("blocks count the 64-byte header and round up") {
  CHECK(teddy::clipBlocks(1, 4096) == 1);
  CHECK(teddy::clipBlocks(4032, 4096) == 1);
  CHECK(teddy::clipBlocks(4033, 4096) == 2);
  CHECK(teddy::clipBlocks(20000, 4096) == 5);
}

TEST_CASE("on-demand clips are admitted only up to 1/2 of the budget") {
  CHECK(teddy::admitOnDemand(128, 256));
  CHECK_FALSE(teddy::admitOnDemand(129, 256));
  CHECK_FALSE(teddy::admitOnDemand(4, 7));
}

TEST_CASE("the victim has the fewest plays per block, then the least recent use, never a pinned one") {
  PolicyState s[4];
  ClipPolicy p(s, 4);
  insert(p, s, 0, 1);
  insert(p, s, 1, 1);
  insert(p, s, 2, 4);
  CHECK(s[0].priority == kPriorityScale / 2);  // new to the bear: half a play
  CHECK(s[2].priority == kPriorityScale / 8);
  CHECK(p.victim(-1) == 2);  // one play in four blocks is worth less than one in one
  p.hit(2);
  p.hit(2);
  p.hit(2);
  p.hit(2);  // 5 plays / 4 blocks beats 1 play / 1 block
  CHECK(p.victim(-1) == 0);  // 0 and 1 tie on H: the older goes
  p.hit(0);
  CHECK(p.victim(-1) == 1);
  s[1].pinned = true;
  CHECK(p.victim(-1) == 2);  // 2 plays / 1 block now beat 5 / 4
  CHECK(p.victim(2) == 0);   // `except` is skipped
  s[0].pinned = s[2].pinned = true;
  CHECK(p.victim(-1) == -1);
}

TEST_CASE("eviction inflates L, so a clip played long ago loses to one played just now") {
  PolicyState s[3];
  ClipPolicy p(s, 3);
  insert(p, s, 0);
  for (int i = 0; i < 3; ++i) p.hit(0);  // H = 4 * 4096: yesterday's favourite
  insert(p, s, 1);
  insert(p, s, 2);
  // New clips keep arriving; each eviction raises L to the victim's H.
  for (int round = 0; round < 4; ++round) {
    const int v = evict(p, s);
    REQUIRE(v > 0);  // the favourite survives while L is low...
    insert(p, s, static_cast<size_t>(v));
    p.hit(static_cast<size_t>(v));
  }
  CHECK(p.victim(-1) == 0);  // ...until everything played since is worth more than its old plays
}

TEST_CASE("L renormalizes before uint32 overflow, keeping the order") {
  PolicyState s[3];
  ClipPolicy p(s, 3);
  insert(p, s, 0);
  s[0].priority = teddy::kInflationLimit + 10;
  insert(p, s, 1);
  s[1].priority = teddy::kInflationLimit + 500;
  insert(p, s, 2);
  s[2].priority = teddy::kInflationLimit + 70;
  CHECK(evict(p, s) == 0);  // L reaches 2^31: everything shifts down by it
  CHECK(s[1].priority == 490);
  CHECK(s[2].priority == 60);
  insert(p, s, 0);
  CHECK(s[0].priority == kPriorityScale / 2);  // L is 0 again
  CHECK(p.victim(-1) == 2);
}

TEST_CASE("the ghost: an evicted clip that comes back gets its plays back; a new one starts at half a play") {
  PolicyState s[2];
  ClipPolicy p(s, 2);
  insert(p, s, 0, 1, 0xaaaa);
  for (int i = 0; i < 3; ++i) p.hit(0);  // freq 4
  insert(p, s, 1, 1, 0xbbbb);
  s[1].pinned = true;
  REQUIRE(evict(p, s, 0xaaaa) == 0);
  const uint32_t l = 4 * kPriorityScale;  // L = the victim's H
  insert(p, s, 0, 2, 0xaaaa);
  CHECK(s[0].freq == 5);
  CHECK(s[0].priority == l + 5 * kPriorityScale / 2);
  REQUIRE(evict(p, s, 0xaaaa) == 0);
  insert(p, s, 0, 2, 0xcccc);  // never seen
  CHECK(s[0].freq == 1);
  CHECK(s[0].priority == l + 5 * kPriorityScale / 2 + kPriorityScale / 4);
  // An entry is used once; another evicted clip whose first byte falls on the same entry replaces it.
  REQUIRE(evict(p, s, 0x1000) == 0);      // entry 0 (0x00 mod 16) now holds 0x1000, not 0xaaaa's (0xaa mod 16 = 10)
  insert(p, s, 0, 1, 0x7777);
  REQUIRE(evict(p, s, 0x123a) == 0);      // 0x3a mod 16 = 10: replaces 0xaaaa's second eviction (freq 5)
  insert(p, s, 0, 1, 0xaaaa);
  CHECK(s[0].freq == 1);
  REQUIRE(evict(p, s, 0x7777) == 0);
  insert(p, s, 0, 1, 0x1000);
  CHECK(s[0].freq == 2);  // 0x1000 was evicted with freq 1
}

TEST_CASE("frequency saturates instead of wrapping, and H cannot overflow") {
  PolicyState s[1];
  ClipPolicy p(s, 1);
  insert(p, s, 0);
  s[0].freq = UINT8_MAX;
  p.hit(0);
  CHECK(s[0].freq == UINT8_MAX);
  CHECK(s[0].priority == uint32_t{UINT8_MAX} * kPriorityScale);
}

TEST_CASE("a reboot restarts L, the ghost and frequencies and orders recency by slot") {
  PolicyState s[3];
  ClipPolicy p(s, 3);
  insert(p, s, 2, 2);
  insert(p, s, 0, 2);
  p.hit(2);
  p.rebooted();
  CHECK(s[0].freq == 1);
  CHECK(s[0].priority == kPriorityScale / 2);
  CHECK(s[0].lastUse == 1);
  CHECK(s[2].lastUse == 2);
  CHECK(p.victim(-1) == 0);
}
