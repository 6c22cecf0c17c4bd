// The flash clip store on the file-backed NOR emulator: storing, reading,
// the eviction policy, persistence across reboots, corruption, resumable writes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include "clip_store_fixture.h"

using namespace fixture;

namespace {

struct Bear {
  std::string path;
  FileFlash flash{kBlock, kDeviceBlocks};
  explicit Bear(const char* name) : path(fixture::tempPath(name)) { REQUIRE(flash.open(path.c_str()) == Status::Ok); }
  ~Bear() { std::remove(path.c_str()); }
};
}  // namespace

TEST_CASE("a stored clip reads back byte for byte, and survives a reboot with its pin and the warm seq") {
  Bear bear("basic");
  const auto a = makeClip(1, 9000, true);
  {
    ClipStore s(bear.flash, kBudgetBlocks * kBlock);
    REQUIRE(s.mount() == Status::Ok);
    REQUIRE(store(s, a) == Status::Ok);
    REQUIRE(s.setWarmSeq(7) == Status::Ok);
    std::vector<uint8_t> out;
    REQUIRE(readAll(s, a.header.id, out) == Status::Ok);
    CHECK(out == a.bytes);
  }
  REQUIRE(bear.flash.open(bear.path.c_str()) == Status::Ok);
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  CHECK(s.contains(a.header.id));
  CHECK(s.warmSeq() == 7);
  std::vector<uint8_t> out;
  REQUIRE(readAll(s, a.header.id, out) == Status::Ok);
  CHECK(out == a.bytes);
  // Pinned survived: filling the flash cannot evict it.
  CHECK(store(s, makeClip(2, 8 * kBlock - 100)) == Status::NoSpace);
  CHECK(s.contains(a.header.id));
  CHECK(s.consistent());
}

TEST_CASE("eviction follows the policy: fewest plays per block, then least recent; pinned stays") {
  Bear bear("evict");
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  const auto pinned = makeClip(1, 8000, true);  // 2 blocks
  const auto b = makeClip(2, 8000);             // 2
  const auto c = makeClip(3, 8000);             // 2
  const auto d = makeClip(4, 8000);             // 2
  REQUIRE(store(s, pinned) == Status::Ok);
  REQUIRE(store(s, b) == Status::Ok);
  REQUIRE(store(s, c) == Status::Ok);
  REQUIRE(store(s, d) == Status::Ok);
  s.recordHit(b.header.id);
  s.recordHit(c.header.id);
  s.recordHit(c.header.id);
  const auto e = makeClip(5, 16000);  // 4 blocks: 2 free, so one 2-block clip must go
  REQUIRE(store(s, e) == Status::Ok);
  CHECK_FALSE(s.contains(d.header.id));  // 1 play in 2 blocks, the least
  CHECK(s.contains(b.header.id));
  CHECK(s.contains(c.header.id));
  CHECK(s.contains(pinned.header.id));
  CHECK(s.stats().evictions == 1);
  CHECK(s.consistent());
}

TEST_CASE("on-demand clips above 1/2 of the budget and clips larger than the budget are refused") {
  Bear bear("admit");
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  uint32_t resumeAt = 0;
  CHECK(s.begin(makeClip(1, 6 * kBlock - 64).header, true, resumeAt) == Status::TooLarge);  // 6 blocks > 10/2
  CHECK(s.begin(makeClip(2, 11 * kBlock).header, false, resumeAt) == Status::TooLarge);
  CHECK(s.stats().usedBlocks == 0);
}

TEST_CASE("a corrupt clip is never served: it is reported and dropped") {
  Bear bear("corrupt");
  const auto a = makeClip(1, 6000);
  {
    ClipStore s(bear.flash, kBudgetBlocks * kBlock);
    REQUIRE(s.mount() == Status::Ok);
    REQUIRE(store(s, a) == Status::Ok);
  }
  // Flip one data bit behind the store's back (a worn cell).
  const int fd = ::open(bear.path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  uint8_t byte = 0;
  bool flipped = false;
  for (uint32_t block = teddy::kIndexBlocks; block < kDeviceBlocks && !flipped; ++block) {
    const off_t at = static_cast<off_t>(block) * kBlock + 100;
    REQUIRE(::pread(fd, &byte, 1, at) == 1);
    if (byte == 0xFF) continue;  // an erased block, not ours
    byte ^= 0x10;
    REQUIRE(::pwrite(fd, &byte, 1, at) == 1);
    flipped = true;
  }
  ::close(fd);
  REQUIRE(flipped);
  REQUIRE(bear.flash.open(bear.path.c_str()) == Status::Ok);
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  CHECK(s.contains(a.header.id));
  std::vector<uint8_t> out;
  CHECK(readAll(s, a.header.id, out) == Status::Corrupt);
  CHECK(out.empty());
  CHECK_FALSE(s.contains(a.header.id));
  CHECK(s.stats().corruptDropped == 1);
  CHECK(s.stats().usedBlocks == 0);  // its blocks are free again
}

TEST_CASE("a download with the wrong bytes does not commit") {
  Bear bear("badsha");
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  auto a = makeClip(1, 5000);
  a.bytes[4000] ^= 1;
  CHECK(store(s, a) == Status::Corrupt);
  CHECK_FALSE(s.contains(a.header.id));
  CHECK(s.stats().usedBlocks == 0);
}

TEST_CASE("a paused write resumes where it stopped, in the same boot and after a reboot") {
  Bear bear("resume");
  const auto a = makeClip(1, 3 * kBlock);
  {
    ClipStore s(bear.flash, kBudgetBlocks * kBlock);
    REQUIRE(s.mount() == Status::Ok);
    uint32_t resumeAt = 99;
    REQUIRE(s.begin(a.header, false, resumeAt) == Status::Ok);
    CHECK(resumeAt == 0);
    REQUIRE(s.write(a.bytes.data(), 5000) == Status::Ok);
    s.pause();
    REQUIRE(s.begin(a.header, false, resumeAt) == Status::Ok);
    CHECK(resumeAt == 5000);  // exact within a boot
    REQUIRE(s.write(a.bytes.data() + 5000, 4000) == Status::Ok);
    s.pause();
  }
  REQUIRE(bear.flash.open(bear.path.c_str()) == Status::Ok);
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  CHECK_FALSE(s.contains(a.header.id));
  uint32_t resumeAt = 0;
  REQUIRE(s.begin(a.header, false, resumeAt) == Status::Ok);
  CHECK(resumeAt == 2 * kBlock - teddy::kClipHeaderBytes);  // after a reboot: the last whole block
  REQUIRE(s.write(a.bytes.data() + resumeAt, a.bytes.size() - resumeAt) == Status::Ok);
  REQUIRE(s.commit() == Status::Ok);
  std::vector<uint8_t> out;
  REQUIRE(readAll(s, a.header.id, out) == Status::Ok);
  CHECK(out == a.bytes);
}

TEST_CASE("writes spread over the least-worn blocks") {
  Bear bear("wear");
  ClipStore s(bear.flash, kBudgetBlocks * kBlock);
  REQUIRE(s.mount() == Status::Ok);
  for (uint8_t round = 0; round < 30; ++round) {
    const auto c = makeClip(static_cast<uint8_t>(round + 1), 3000);
    REQUIRE(store(s, c) == Status::Ok);
    REQUIRE(s.remove(c.header.id) == Status::Ok);
  }
  // 30 one-block clips over 10 data blocks: each erased 3 times, none more.
  // (The index blocks take every index write; they are counted too.)
  CHECK(s.consistent());
  const auto stats = s.stats();
  CHECK(stats.maxEraseCount >= 3);
}
