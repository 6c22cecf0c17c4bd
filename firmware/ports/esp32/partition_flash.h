// The clip store's flash on the ESP32: the "clips" data partition
// (firmware/partitions.csv) through esp_partition. SPI NOR flash has the
// semantics BlockDevice promises; the partition's erase unit (esp_partition_t's
// erase_size, the 4096-byte sector on SPI flash) is the block. (SPI_FLASH_SEC_SIZE
// is only in spi_flash_mmap.h since ESP-IDF 5.0; the partition knows its own.)
#pragma once

#include "esp_partition.h"
#include "teddy/block_device.h"

namespace teddy::esp32 {

class PartitionFlash final : public BlockDevice {
 public:
  /** Finds the data partition labelled `label`; ok() is false if there is none. */
  explicit PartitionFlash(const char* label);
  bool ok() const { return partition_ != nullptr; }

  Status read(uint32_t address, uint8_t* out, size_t size) override;
  Status program(uint32_t address, const uint8_t* data, size_t size) override;
  Status erase(uint32_t block) override;
  uint32_t blockSize() const override { return partition_ ? partition_->erase_size : 0; }
  uint32_t blockCount() const override { return partition_ ? partition_->size / partition_->erase_size : 0; }

 private:
  const esp_partition_t* partition_;
};

}  // namespace teddy::esp32
