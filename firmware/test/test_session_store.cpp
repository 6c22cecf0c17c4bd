// The session on the real flash clip store (on the NOR file emulator): a warm
// download cut by a power loss resumes after the reboot where the store says,
// ends byte for byte in flash, and the manifest is applied exactly once.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "clip_store_fixture.h"
#include "session_rig.h"

using namespace teddy;
using host::FileFlash;

namespace {
constexpr uint32_t kBudgetBlocks = 64;
}

TEST_CASE("a warm download cut by a power loss resumes after the reboot at the store's resume point") {
  const std::string path = fixture::tempPath("session-store");
  const auto clip = fixture::makeClip(1, 20000, true);
  FileFlash device(fixture::kBlock, kIndexBlocks + kBudgetBlocks);
  REQUIRE(device.open(path.c_str()) == Status::Ok);
  const std::string url = "http://origin/clips/1";
  protocol::ClipRef ref;
  ref.id = clip.header.id;
  ref.sha256 = clip.header.sha256;
  ref.size = clip.header.size;
  ref.url = {url.data(), url.size()};
  ref.hasPinned = true;
  ref.pinned = true;

  {
    ClipStore store(device, kBudgetBlocks * fixture::kBlock);
    REQUIRE(store.mount() == Status::Ok);
    rig::Rig bear(store);
    bear.http.files[url] = clip.bytes;
    bear.ready();
    bear.deliverWarm(3, {ref});
    bear.tick(10);  // begin
    bear.tick(10);  // chunk 1
    bear.tick(10);  // chunk 2
    device.cutPowerAt(3, true);  // somewhere in chunk 3's erase/program steps, torn
    for (int i = 0; i < 20; ++i) bear.tick(10);
    CHECK(device.powerLost());
    CHECK(!store.contains(ref.id));
  }

  // Reboot: the flash comes back, the store mounts, a new session says hello with seq 0.
  REQUIRE(device.open(path.c_str()) == Status::Ok);
  ClipStore store(device, kBudgetBlocks * fixture::kBlock);
  REQUIRE(store.mount() == Status::Ok);
  CHECK(store.consistent());
  uint32_t kept = 0;  // begin() reports the resume point of the interrupted write
  REQUIRE(store.begin(clip.header, false, kept) == Status::Ok);
  store.pause();
  CHECK(kept > 0);
  CHECK(kept < clip.header.size);

  rig::Rig bear(store);
  bear.http.files[url] = clip.bytes;
  bear.ready();
  CHECK(bear.lastOn("req").hello.warmSeq == 0);
  bear.deliverWarm(3, {ref});  // the gateway pushes it again
  bear.runUntilIdle();
  REQUIRE(!bear.http.offsets.empty());
  CHECK(bear.http.offsets.front() == kept);  // Range starts where the store's progress bitmap says
  REQUIRE(bear.listener.warms.size() == 1);
  CHECK(bear.listener.warms[0].stored.count == 1);
  CHECK(bear.listener.warms[0].failed.count == 0);
  std::vector<uint8_t> out;
  REQUIRE(fixture::readAll(store, ref.id, out) == Status::Ok);
  CHECK(out == clip.bytes);
  CHECK(store.warmSeq() == 3);

  bear.deliverWarm(3, {ref});  // a replay after the reboot changes nothing
  bear.runUntilIdle();
  CHECK(bear.listener.warms.size() == 1);
  std::remove(path.c_str());
}
