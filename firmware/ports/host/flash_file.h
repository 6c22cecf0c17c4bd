// The host bear's flash clip cache: the shared cache policy (docs/firmware.md,
// "Flash clip cache policy") over clips kept in RAM and persisted to one file
// (written whole to a temporary file, then renamed: a crash leaves the old or
// the new state, never a torn one). Partial downloads are persisted too, so a
// restarted bear resumes them. Host only: the device's store works on erase
// blocks with its own commit records.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "teddy/flash_cache.h"

namespace teddy::host {

class FlashFile final : public FlashCache {
 public:
  /** Loads `path` if it exists (else starts empty); `budget` is rounded down to whole 4 KiB blocks. */
  Status open(const char* path, uint32_t budget);

  bool contains(const ClipId& id) override;
  Status read(const ClipId& id, uint32_t offset, uint8_t* buf, size_t capacity, size_t& read) override;
  void recordHit(const ClipId& id) override;
  Status begin(const ClipHeader& clip, bool onDemand, uint32_t& resumeAt) override;
  Status write(const uint8_t* data, size_t size) override;
  Status commit() override;
  void pause() override;
  Status setPinned(const ClipId& id, bool pinned) override;
  void list(protocol::ClipIdList& out) override;
  FlashInfo info() override;
  uint32_t warmSeq() override { return warmSeq_; }
  Status setWarmSeq(uint32_t seq) override;

 private:
  struct Clip {
    ClipHeader header;
    bool committed = false;
    std::vector<uint8_t> bytes;
    uint16_t freq = 1;
    uint32_t lastUse = 0;
  };

  static uint32_t blocksOf(uint32_t size);
  uint32_t usedBlocks() const;
  void tickClock(Clip& c);
  Status makeRoom(uint32_t blocks);
  Status save();

  std::string path_;
  uint32_t budgetBlocks_ = 0;
  uint32_t warmSeq_ = 0;
  uint32_t clock_ = 0;
  uint32_t evictions_ = 0;
  std::map<ClipId, Clip> clips_;  // committed and partial
  bool writing_ = false;
  ClipId writingId_{};
};

}  // namespace teddy::host
