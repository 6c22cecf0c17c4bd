// A NOR flash chip in a file, for the host build and the power-loss tests:
// erase sets a block to 0xFF, program can only clear bits (the new bytes are
// ANDed in, as on the chip), and a power cut can be scheduled at any single
// program or erase: that operation fails, optionally half-done ("torn"), and
// every one after it fails too, until the flash is opened again (a reboot).
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/block_device.h"

namespace teddy::host {

class FileFlash final : public BlockDevice {
 public:
  FileFlash(uint32_t blockSize, uint32_t blockCount) : blockSize_(blockSize), blockCount_(blockCount) {}
  ~FileFlash();
  FileFlash(const FileFlash&) = delete;
  FileFlash& operator=(const FileFlash&) = delete;

  /** Opens (creating it erased, or extending it) the backing file; a reopen clears any power cut. */
  Status open(const char* path);

  Status read(uint32_t address, uint8_t* out, size_t size) override;
  Status program(uint32_t address, const uint8_t* data, size_t size) override;
  Status erase(uint32_t block) override;
  uint32_t blockSize() const override { return blockSize_; }
  uint32_t blockCount() const override { return blockCount_; }

  /** The `n`th program or erase from now (1 = the next) loses power; `torn` applies half of it first. */
  void cutPowerAt(uint32_t n, bool torn);
  /** Programs and erases done since open(). */
  uint32_t operations() const { return operations_; }
  bool powerLost() const { return powerLost_; }

 private:
  bool powerFails();
  bool inRange(uint32_t address, size_t size) const;

  uint32_t blockSize_;
  uint32_t blockCount_;
  int fd_ = -1;
  uint32_t operations_ = 0;
  uint32_t cutAt_ = 0;  // 0 = never
  bool tear_ = false;
  bool powerLost_ = false;
};

}  // namespace teddy::host
