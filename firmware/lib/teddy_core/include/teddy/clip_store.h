// The bear's flash clip cache: voice clips in a flash partition that survive
// power loss and are never played corrupt.
//
// Layout (block size B, normally 4096):
//   blocks 0-1  index copy 0      blocks 2-3  index copy 1
//   blocks 4..  data: each clip takes ceil((size + 64) / B) blocks, in any order;
//               its first block starts with a 64-byte clip header.
//
// The index (every clip's id, SHA-256, size, state, pin, the owner of every
// data block and every block's erase count) is written whole to the copy not
// in use, its 32-byte commit header programmed last; mount takes the newest
// copy whose header and CRCs check out. So every change is atomic: after a
// power cut the store is exactly as before or after it.
//
// Writing a clip: begin() evicts room by the policy (teddy/clip_policy.h) and
// records the clip as pending in the index; write() erases each block just
// before its first byte and clears the block's bit in the clip header's
// progress bitmap once the block is full, so an interrupted download resumes at
// the last whole block; commit() reads the data back, checks its SHA-256 and
// only then records the clip as stored. A stored clip's SHA-256 is checked
// again before its first play after each boot; one that fails is dropped and
// reported Corrupt, never played.
//
// No allocation: all state is in the object (about 4.5 KB at the defaults; npm run footprint).
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/block_device.h"
#include "teddy/clip_policy.h"
#include "teddy/flash_cache.h"
#include "teddy/types.h"

#ifndef TEDDY_MAX_CLIPS
#define TEDDY_MAX_CLIPS 48
#endif
#ifndef TEDDY_MAX_DATA_BLOCKS
#define TEDDY_MAX_DATA_BLOCKS 256
#endif

namespace teddy {

constexpr size_t kMaxClips = TEDDY_MAX_CLIPS;
constexpr size_t kMaxDataBlocks = TEDDY_MAX_DATA_BLOCKS;
constexpr uint32_t kIndexCopyBlocks = 2;
constexpr uint32_t kIndexBlocks = 2 * kIndexCopyBlocks;
/** Largest clip: the progress bitmap has 64 bits (256 KiB at 4 KiB blocks). */
constexpr uint32_t kMaxClipBlocks = 64;

struct ClipStoreStats {
  uint32_t budgetBlocks = 0;
  uint32_t usedBlocks = 0;     // stored and pending clips
  uint32_t pendingBlocks = 0;  // pending clips only
  uint32_t clips = 0;          // stored clips
  uint32_t evictions = 0;
  uint32_t corruptDropped = 0;
  uint32_t maxEraseCount = 0;
};

class ClipStore final : public FlashCache {
 public:
  /** `budgetBytes` is rounded down to whole blocks and capped by the device and kMaxDataBlocks. */
  ClipStore(BlockDevice& device, uint32_t budgetBytes);

  /** Loads the newest valid index; formats a blank or unreadable device. */
  Status mount();
  /** Forgets every clip (the data blocks are erased lazily, when reused). */
  Status format();

  // FlashCache
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

  Status remove(const ClipId& id);
  ClipStoreStats stats() const;
  /** Checks the in-memory index: every block owned at most once, each clip's blocks all there. */
  bool consistent() const;

 private:
  enum class SlotState : uint8_t { Free = 0, Pending = 1, Stored = 2 };
  struct Slot {
    ClipId id{};
    Digest sha256{};
    uint32_t size = 0;
    uint32_t written = 0;     // data bytes durably written (pending)
    SlotState state = SlotState::Free;
    uint8_t blocks = 0;
    uint8_t erasedBlocks = 0;  // blocks erased for the current write, in clip order
    bool verified = false;     // SHA-256 checked since boot
  };

  int find(const ClipId& id, SlotState state) const;
  int freeSlot() const;
  uint32_t freeBlocks() const;
  uint32_t blockOf(int slot, uint32_t order) const;
  uint32_t dataAddress(int slot, uint32_t offset) const;
  void release(int slot);
  Status makeRoom(uint32_t blocks, int self);
  Status allocate(int slot, uint32_t blocks);
  Status eraseBlock(uint32_t block);
  Status prepareBlock(int slot, uint32_t order);
  Status markBlockDone(int slot, uint32_t order);
  Status resumePoint(int slot);
  Status verify(int slot);
  Status dropCorrupt(int slot);
  Status writeIndex();
  Status loadIndex(uint32_t copy, uint32_t& seq);
  bool readHeader(uint32_t copy, uint32_t& seq, uint32_t& warmSeq, uint32_t& length, uint32_t& crc);
  uint32_t indexLength() const;

  BlockDevice& dev_;
  uint32_t blockSize_;
  uint32_t budgetBlocks_;
  Slot slots_[kMaxClips];
  PolicyState policyState_[kMaxClips];
  ClipPolicy policy_;
  uint8_t owner_[kMaxDataBlocks];  // slot + 1 owning the block, 0 = free
  uint8_t order_[kMaxDataBlocks];  // the block's place in its clip
  // Saturating at 65 535 in RAM (a lower bound, as the counts are anyway; NOR is rated ~100 000
  // cycles); 32 bits in the index on flash.
  uint16_t eraseCount_[kIndexBlocks + kMaxDataBlocks];
  uint32_t seq_ = 0;
  uint32_t activeCopy_ = 0;
  uint32_t warmSeq_ = 0;
  int writing_ = -1;
  uint32_t evictions_ = 0;
  uint32_t corruptDropped_ = 0;
  uint8_t buf_[256];  // staging for index records and read-back checks
};

}  // namespace teddy
