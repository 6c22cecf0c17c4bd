// The flash the clip store lives on, as NOR flash behaves: erase sets a whole
// block to 0xFF; program can only clear bits (1 -> 0), so a byte is written
// once per erase. Ports: ESP32 esp_partition (ports/esp32/partition_flash),
// host file emulator with power-cut injection (ports/host/file_flash).
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/status.h"

namespace teddy {

class BlockDevice {
 public:
  virtual Status read(uint32_t address, uint8_t* out, size_t size) = 0;
  virtual Status program(uint32_t address, const uint8_t* data, size_t size) = 0;
  virtual Status erase(uint32_t block) = 0;
  virtual uint32_t blockSize() const = 0;
  virtual uint32_t blockCount() const = 0;

 protected:
  ~BlockDevice() = default;
};

}  // namespace teddy
