#include "message_queue.h"

#include <cstring>

namespace teddy {

namespace {
// Record: u32 length (whole record, padded to 4) | u8 kind | u8 flags | u8 topic size | u8 0 | u32 tag |
// u32 data size | topic | NUL | data. A length of kWrap (or fewer than 4 bytes left) means "continue at 0".
constexpr uint32_t kHeader = 16;
constexpr uint32_t kWrap = 0xffffffffu;
constexpr size_t kMaxTopic = 255;
uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }
}  // namespace

MessageQueue::MessageQueue(uint8_t* storage, size_t capacity)
    : storage_(storage), capacity_(static_cast<uint32_t>(capacity & ~size_t{3})) {}

uint32_t MessageQueue::recordBytes(size_t topicSize, uint32_t size) const {
  return align4(kHeader + static_cast<uint32_t>(topicSize) + 1 + size);
}

uint32_t MessageQueue::at(uint32_t offset) const {
  uint32_t v;
  std::memcpy(&v, storage_ + offset, 4);
  return v;
}

// Only the producer counts, so a load and a store do (no read-modify-write atomics on the ESP32-C3).
void MessageQueue::countDrop() { dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

void MessageQueue::put(uint32_t offset, uint32_t value) { std::memcpy(storage_ + offset, &value, 4); }

size_t MessageQueue::maxMessageBytes() const { return capacity_ > kHeader + 8 ? capacity_ - kHeader - 8 : 0; }

bool MessageQueue::begin(uint8_t kind, uint8_t flags, uint32_t tag, const char* topic, size_t topicSize, uint32_t size) {
  writing_ = false;
  if (topicSize > kMaxTopic || size > capacity_) {
    countDrop();
    return false;
  }
  const uint32_t need = recordBytes(topicSize, size);
  const uint32_t head = head_.load(std::memory_order_acquire);
  const uint32_t tail = tail_.load(std::memory_order_relaxed);
  // The tail never catches up with the head: equal means empty.
  uint32_t start;
  bool wrapped = false;
  if (tail >= head) {
    if (capacity_ - tail > need || (capacity_ - tail == need && head != 0)) {
      start = tail;
    } else if (need < head) {
      start = 0;
      wrapped = true;
    } else {
      countDrop();
      return false;
    }
  } else if (tail + need < head) {
    start = tail;
  } else {
    countDrop();
    return false;
  }
  put(start, need);
  storage_[start + 4] = kind;
  storage_[start + 5] = flags;
  storage_[start + 6] = static_cast<uint8_t>(topicSize);
  storage_[start + 7] = 0;
  put(start + 8, tag);
  put(start + 12, size);
  if (topicSize) std::memcpy(storage_ + start + kHeader, topic, topicSize);
  storage_[start + kHeader + topicSize] = 0;
  writing_ = true;
  writeAt_ = start;
  dataAt_ = start + kHeader + static_cast<uint32_t>(topicSize) + 1;
  writeEnd_ = start + need == capacity_ ? 0 : start + need;
  filled_ = 0;
  size_ = size;
  wrapped_ = wrapped;
  return true;
}

void MessageQueue::append(const uint8_t* data, size_t size) {
  if (!writing_) return;
  const uint32_t n = size < size_ - filled_ ? static_cast<uint32_t>(size) : size_ - filled_;
  if (n) std::memcpy(storage_ + dataAt_ + filled_, data, n);
  filled_ += n;
}

void MessageQueue::commit() {
  if (!writing_) return;
  writing_ = false;
  const uint32_t tail = tail_.load(std::memory_order_relaxed);
  if (wrapped_ && capacity_ - tail >= 4) put(tail, kWrap);
  tail_.store(writeEnd_, std::memory_order_release);
}

bool MessageQueue::push(uint8_t kind, uint8_t flags, uint32_t tag, const char* topic, size_t topicSize, const uint8_t* data,
                        uint32_t size) {
  if (!begin(kind, flags, tag, topic, topicSize, size)) return false;
  append(data, size);
  commit();
  return true;
}

bool MessageQueue::front(Message& out) {
  uint32_t head = head_.load(std::memory_order_relaxed);
  const uint32_t tail = tail_.load(std::memory_order_acquire);
  if (head == tail) return false;
  if (capacity_ - head < 4 || at(head) == kWrap) {
    head = 0;
    head_.store(0, std::memory_order_release);
    if (head == tail) return false;
  }
  out.kind = storage_[head + 4];
  out.flags = storage_[head + 5];
  const uint32_t topicSize = storage_[head + 6];
  out.tag = at(head + 8);
  out.size = at(head + 12);
  out.topic = reinterpret_cast<const char*>(storage_ + head + kHeader);
  out.data = storage_ + head + kHeader + topicSize + 1;
  return true;
}

void MessageQueue::pop() {
  Message m;
  if (!front(m)) return;
  const uint32_t head = head_.load(std::memory_order_relaxed);
  const uint32_t next = head + at(head);
  head_.store(next == capacity_ ? 0 : next, std::memory_order_release);
}

}  // namespace teddy
