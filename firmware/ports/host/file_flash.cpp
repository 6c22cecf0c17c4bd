#include "file_flash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace teddy::host {

FileFlash::~FileFlash() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileFlash::open(const char* path) {
  if (fd_ >= 0) ::close(fd_);
  operations_ = 0;
  cutAt_ = 0;
  powerLost_ = false;
  fd_ = ::open(path, O_RDWR | O_CREAT, 0644);
  if (fd_ < 0) return Status::IoError;
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Status::IoError;
  const uint64_t size = static_cast<uint64_t>(blockSize_) * blockCount_;
  // New flash comes erased: fill whatever the file does not cover yet with 0xFF.
  std::vector<uint8_t> erased(blockSize_, 0xFF);
  for (uint64_t at = static_cast<uint64_t>(st.st_size) / blockSize_ * blockSize_; at < size; at += blockSize_) {
    if (::pwrite(fd_, erased.data(), blockSize_, static_cast<off_t>(at)) != static_cast<ssize_t>(blockSize_)) return Status::IoError;
  }
  return Status::Ok;
}

bool FileFlash::inRange(uint32_t address, size_t size) const {
  return fd_ >= 0 && static_cast<uint64_t>(address) + size <= static_cast<uint64_t>(blockSize_) * blockCount_;
}

bool FileFlash::powerFails() {
  if (powerLost_) return true;
  ++operations_;
  if (cutAt_ != 0 && operations_ == cutAt_) powerLost_ = true;
  return powerLost_;
}

void FileFlash::cutPowerAt(uint32_t n, bool torn) {
  cutAt_ = n == 0 ? 0 : operations_ + n;
  tear_ = torn;
}

Status FileFlash::read(uint32_t address, uint8_t* out, size_t size) {
  if (powerLost_) return Status::IoError;
  if (!inRange(address, size)) return Status::Invalid;
  return ::pread(fd_, out, size, address) == static_cast<ssize_t>(size) ? Status::Ok : Status::IoError;
}

Status FileFlash::program(uint32_t address, const uint8_t* data, size_t size) {
  if (!inRange(address, size)) return Status::Invalid;
  const bool cut = powerFails();
  if (cut && !(tear_ && operations_ == cutAt_)) return Status::IoError;
  const size_t apply = cut ? size / 2 : size;  // a torn program lands its first half
  std::vector<uint8_t> cell(apply);
  if (::pread(fd_, cell.data(), apply, address) != static_cast<ssize_t>(apply)) return Status::IoError;
  for (size_t i = 0; i < apply; ++i) cell[i] &= data[i];  // NOR: bits only go from 1 to 0
  if (::pwrite(fd_, cell.data(), apply, address) != static_cast<ssize_t>(apply)) return Status::IoError;
  return cut ? Status::IoError : Status::Ok;
}

Status FileFlash::erase(uint32_t block) {
  if (block >= blockCount_) return Status::Invalid;
  const bool cut = powerFails();
  if (cut && !(tear_ && operations_ == cutAt_)) return Status::IoError;
  const size_t apply = cut ? blockSize_ / 2 : blockSize_;  // a torn erase clears its first half
  std::vector<uint8_t> erased(apply, 0xFF);
  const off_t at = static_cast<off_t>(block) * blockSize_;
  if (::pwrite(fd_, erased.data(), apply, at) != static_cast<ssize_t>(apply)) return Status::IoError;
  return cut ? Status::IoError : Status::Ok;
}

}  // namespace teddy::host
