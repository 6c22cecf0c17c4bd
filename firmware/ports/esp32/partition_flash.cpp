#include "partition_flash.h"

namespace teddy::esp32 {

namespace {
Status fromEsp(esp_err_t err) {
  if (err == ESP_OK) return Status::Ok;
  return err == ESP_ERR_INVALID_ARG || err == ESP_ERR_INVALID_SIZE ? Status::Invalid : Status::IoError;
}
}  // namespace

PartitionFlash::PartitionFlash(const char* label)
    : partition_(esp_partition_find_first(ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_ANY, label)) {}

Status PartitionFlash::read(uint32_t address, uint8_t* out, size_t size) {
  if (!partition_) return Status::IoError;
  return fromEsp(esp_partition_read(partition_, address, out, size));
}

Status PartitionFlash::program(uint32_t address, const uint8_t* data, size_t size) {
  if (!partition_) return Status::IoError;
  return fromEsp(esp_partition_write(partition_, address, data, size));
}

Status PartitionFlash::erase(uint32_t block) {
  if (!partition_) return Status::IoError;
  return fromEsp(esp_partition_erase_range(partition_, block * partition_->erase_size, partition_->erase_size));
}

}  // namespace teddy::esp32
