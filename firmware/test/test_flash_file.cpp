// The host bear's flash file: the shared cache policy (blocks, eviction by
// (freq, lastUse), pins, on-demand admission, aging), SHA-256 verified
// commits, resumable partial writes, and persistence across a restart.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "flash_file.h"
#include "teddy/sha256.h"

using namespace teddy;
using host::FlashFile;

namespace {

struct TempFile {
  std::string path;
  TempFile() {
    char name[] = "/tmp/teddy-flash-XXXXXX";
    const int fd = mkstemp(name);
    close(fd);
    std::remove(name);  // FlashFile::open creates it
    path = name;
  }
  ~TempFile() {
    std::remove(path.c_str());
    std::remove((path + ".tmp").c_str());
  }
};

ClipHeader header(uint8_t id, const std::vector<uint8_t>& bytes, bool pinned = false) {
  ClipHeader h;
  h.id.fill(id);
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  h.sha256 = sha.finish();
  h.size = static_cast<uint32_t>(bytes.size());
  h.pinned = pinned;
  return h;
}

std::vector<uint8_t> bytesOf(size_t n, uint8_t seed) { return std::vector<uint8_t>(n, seed); }

Status store(FlashFile& f, const ClipHeader& h, const std::vector<uint8_t>& bytes, bool onDemand = false) {
  uint32_t resumeAt = 0;
  Status s = f.begin(h, onDemand, resumeAt);
  if (s != Status::Ok) return s;
  s = f.write(bytes.data() + resumeAt, bytes.size() - resumeAt);
  return s == Status::Ok ? f.commit() : s;
}

}  // namespace

TEST_CASE("a clip takes ceil((size + 64) / 4096) blocks; the least used unpinned clip is evicted first") {
  TempFile tmp;
  FlashFile f;
  REQUIRE(f.open(tmp.path.c_str(), 4 * 4096 + 100) == Status::Ok);  // rounds down to 4 blocks
  const auto a = bytesOf(4032, 1);  // exactly one block with its header
  const auto b = bytesOf(4033, 2);  // two blocks
  const auto c = bytesOf(100, 3);
  REQUIRE(store(f, header(1, a), a) == Status::Ok);
  REQUIRE(store(f, header(2, b), b) == Status::Ok);
  REQUIRE(store(f, header(3, c), c) == Status::Ok);
  f.recordHit(header(1, a).id);  // clip 1: freq 2
  const auto d = bytesOf(200, 4);
  REQUIRE(store(f, header(4, d), d) == Status::Ok);  // needs one block: evicts clip 2 (freq 1, oldest)
  CHECK(f.contains(header(1, a).id));
  CHECK(!f.contains(header(2, b).id));
  CHECK(f.contains(header(3, c).id));
  CHECK(f.info().evictions == 1);
}

TEST_CASE("aging: when the clock reaches a multiple of 256 every freq halves, before the insert evicts") {
  TempFile tmp;
  FlashFile f;
  REQUIRE(f.open(tmp.path.c_str(), 3 * 4096) == Status::Ok);
  const auto p = bytesOf(100, 9), a = bytesOf(100, 1), b = bytesOf(100, 2), c = bytesOf(100, 3);
  REQUIRE(store(f, header(9, p, true), p) == Status::Ok);  // clock 1
  REQUIRE(store(f, header(1, a), a) == Status::Ok);        // clock 2
  REQUIRE(store(f, header(2, b), b) == Status::Ok);        // clock 3
  f.recordHit(header(1, a).id);
  f.recordHit(header(1, a).id);                            // A: freq 3, lastUse 5
  f.recordHit(header(2, b).id);                            // B: freq 2, lastUse 6
  for (int i = 0; i < 249; ++i) f.recordHit(header(9, p).id);  // clock 255
  // Inserting C ticks the clock to 256: A 3 -> 1, B 2 -> 1; the tie goes to the older, A.
  REQUIRE(store(f, header(3, c), c) == Status::Ok);
  CHECK(!f.contains(header(1, a).id));
  CHECK(f.contains(header(2, b).id));
}

TEST_CASE("pinned clips are never evicted; with only pinned clips left an insert is NoSpace") {
  TempFile tmp;
  FlashFile f;
  REQUIRE(f.open(tmp.path.c_str(), 2 * 4096) == Status::Ok);
  const auto a = bytesOf(1000, 1), b = bytesOf(1000, 2), c = bytesOf(1000, 3);
  REQUIRE(store(f, header(1, a, true), a) == Status::Ok);
  REQUIRE(store(f, header(2, b, true), b) == Status::Ok);
  uint32_t resumeAt = 0;
  CHECK(f.begin(header(3, c), false, resumeAt) == Status::NoSpace);
  REQUIRE(f.setPinned(header(2, b).id, false) == Status::Ok);
  CHECK(store(f, header(3, c), c) == Status::Ok);
  CHECK(!f.contains(header(2, b).id));
}

TEST_CASE("on-demand admission: only clips of at most 1/8 of the budget's blocks") {
  TempFile tmp;
  FlashFile f;
  REQUIRE(f.open(tmp.path.c_str(), 16 * 4096) == Status::Ok);  // on-demand limit: 2 blocks
  const auto small = bytesOf(2 * 4096 - 64, 1), big = bytesOf(2 * 4096 - 63, 2);
  CHECK(store(f, header(1, small), small, true) == Status::Ok);
  CHECK(store(f, header(2, big), big, true) == Status::TooLarge);
  CHECK(store(f, header(2, big), big, false) == Status::Ok);  // a warm insert has no such limit
}

TEST_CASE("a commit whose bytes do not match the SHA-256 is Corrupt: never served, space returned") {
  TempFile tmp;
  FlashFile f;
  REQUIRE(f.open(tmp.path.c_str(), 4 * 4096) == Status::Ok);
  const auto good = bytesOf(500, 1);
  auto h = header(1, good);
  h.sha256[0] ^= 1;
  CHECK(store(f, h, good) == Status::Corrupt);
  CHECK(!f.contains(h.id));
  CHECK(f.info().bytesUsed == 0);
  size_t n = 1;
  uint8_t buf[16];
  CHECK(f.read(h.id, 0, buf, sizeof buf, n) == Status::NotFound);
}

TEST_CASE("clips, pins, the warm seq and a partial download survive a restart; the download resumes") {
  TempFile tmp;
  const auto a = bytesOf(3000, 1), b = bytesOf(9000, 2);
  {
    FlashFile f;
    REQUIRE(f.open(tmp.path.c_str(), 1 << 20) == Status::Ok);
    REQUIRE(store(f, header(1, a, true), a) == Status::Ok);
    REQUIRE(f.setWarmSeq(7) == Status::Ok);
    uint32_t resumeAt = 99;
    REQUIRE(f.begin(header(2, b), false, resumeAt) == Status::Ok);
    CHECK(resumeAt == 0);
    REQUIRE(f.write(b.data(), 4096) == Status::Ok);
    // power cut: no commit, no pause
  }
  FlashFile f;
  REQUIRE(f.open(tmp.path.c_str(), 1 << 20) == Status::Ok);
  CHECK(f.warmSeq() == 7);
  CHECK(f.contains(header(1, a).id));
  CHECK(!f.contains(header(2, b).id));
  protocol::ClipIdList held;
  f.list(held);
  CHECK(held.count == 1);
  uint32_t resumeAt = 0;
  REQUIRE(f.begin(header(2, b), false, resumeAt) == Status::Ok);
  CHECK(resumeAt == 4096);
  REQUIRE(f.write(b.data() + resumeAt, b.size() - resumeAt) == Status::Ok);
  REQUIRE(f.commit() == Status::Ok);
  std::vector<uint8_t> back(b.size());
  size_t n = 0;
  REQUIRE(f.read(header(2, b).id, 0, back.data(), back.size(), n) == Status::Ok);
  CHECK(back == b);
}

TEST_CASE("a garbage flash file is Corrupt, not a crash") {
  TempFile tmp;
  {
    FILE* out = std::fopen(tmp.path.c_str(), "wb");
    std::fputs("TEDDYFL1\x01\x00\x00\x00\xff\xff\xff\xff", out);
    std::fclose(out);
  }
  FlashFile f;
  CHECK(f.open(tmp.path.c_str(), 1 << 20) == Status::Corrupt);
}
