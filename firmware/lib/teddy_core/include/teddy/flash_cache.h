// What the session needs from the flash clip cache. The bear wires it to the
// clip store (teddy/clip_store.h); session unit tests use an in-memory fake.
// Keeping the session on this narrow seam means it never sees blocks, headers
// or eviction: those are the store's, with its own power-loss tests.
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/protocol.h"
#include "teddy/status.h"
#include "teddy/types.h"

namespace teddy {

struct FlashInfo {
  uint32_t bytesUsed = 0;
  uint32_t clipCount = 0;
  uint32_t evictions = 0;
  uint32_t maxEraseCount = 0;
};

/** A clip about to be written: what its commit will verify. */
struct ClipHeader {
  ClipId id{};
  Digest sha256{};
  uint32_t size = 0;
  bool pinned = false;
};

class FlashCache {
 public:
  virtual bool contains(const ClipId& id) = 0;
  /** Reads part of a stored, verified clip; `read` is 0 at its end. */
  virtual Status read(const ClipId& id, uint32_t offset, uint8_t* buf, size_t capacity, size_t& read) = 0;
  /** Counts a play served from flash (the policy's freq and lastUse). */
  virtual void recordHit(const ClipId& id) = 0;

  /**
   * Starts (or resumes) writing a clip. `onDemand` applies the on-demand
   * admission rule. `resumeAt` = bytes an interrupted earlier write of the
   * same clip already committed (0 when new). NoSpace / TooLarge when the
   * policy refuses it.
   */
  virtual Status begin(const ClipHeader& clip, bool onDemand, uint32_t& resumeAt) = 0;
  virtual Status write(const uint8_t* data, size_t size) = 0;
  /** Verifies the SHA-256 and makes the clip playable; Corrupt (clip dropped) on mismatch. */
  virtual Status commit() = 0;
  /** Stops the current write; what was written stays resumable. */
  virtual void pause() = 0;

  virtual Status setPinned(const ClipId& id, bool pinned) = 0;
  /** Fills `out` with the ids held (up to its capacity). */
  virtual void list(protocol::ClipIdList& out) = 0;
  virtual FlashInfo info() = 0;

  /** The last warm manifest applied, persisted across reboots. */
  virtual uint32_t warmSeq() = 0;
  virtual Status setWarmSeq(uint32_t seq) = 0;

 protected:
  ~FlashCache() = default;
};

}  // namespace teddy
