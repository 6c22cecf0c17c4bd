// A bounded queue of messages (a topic and bytes, with a kind and a tag) from
// one producer task to one consumer task, in caller-owned storage, that never
// blocks either side: a producer that finds no room drops the message and
// counts it. This is how the bear's tasks hand MQTT events and commands to
// each other without ever waiting on one another (or on the network): a
// dropped message is one the session's retries and timeouts recover.
//
// A message may be written in pieces (esp-mqtt delivers a long message in
// fragments): begin() reserves its whole size, append() fills it, commit()
// makes it visible; abort() forgets a message cut off mid-delivery, so its
// room is never lost. Records are contiguous (a view, no copy on the consumer
// side); a record that does not fit at the end of the storage wraps to its
// start. Head and tail are 32-bit atomics: plain loads and stores on RV32.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace teddy {

class MessageQueue {
 public:
  struct Message {
    uint8_t kind = 0;
    uint8_t flags = 0;
    uint32_t tag = 0;
    const char* topic = "";
    const uint8_t* data = nullptr;
    uint32_t size = 0;
  };

  /** `storage` must be 4-byte aligned; `capacity` is rounded down to a multiple of 4. */
  MessageQueue(uint8_t* storage, size_t capacity);

  // ---- producer ----
  /** Reserves a message of `size` bytes; false (and counted as dropped) if it does not fit now. */
  bool begin(uint8_t kind, uint8_t flags, uint32_t tag, const char* topic, size_t topicSize, uint32_t size);
  /** Adds bytes to the message begun; bytes past its size are ignored. */
  void append(const uint8_t* data, size_t size);
  /** Publishes the message begun to the consumer. */
  void commit();
  /** Forgets the message begun (cut off); its room is free again. */
  void abort() { writing_ = false; }
  bool writing() const { return writing_; }
  /** begin + append + commit. */
  bool push(uint8_t kind, uint8_t flags, uint32_t tag, const char* topic, size_t topicSize, const uint8_t* data, uint32_t size);

  // ---- consumer ----
  /** The oldest message, valid until pop(); false when empty. */
  bool front(Message& out);
  void pop();

  /** Messages refused for want of room, since construction (either side may read it). */
  uint32_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  /** Largest message (topic + bytes) that fits in an empty queue. */
  size_t maxMessageBytes() const;

 private:
  uint32_t recordBytes(size_t topicSize, uint32_t size) const;
  uint32_t at(uint32_t offset) const;
  void put(uint32_t offset, uint32_t value);
  void countDrop();

  uint8_t* storage_;
  uint32_t capacity_;
  std::atomic<uint32_t> head_{0};  // consumer's: next record to read
  std::atomic<uint32_t> tail_{0};  // producer's: end of the last committed record
  std::atomic<uint32_t> dropped_{0};
  // Producer-only state of the message being written.
  bool writing_ = false;
  uint32_t writeAt_ = 0;    // where its record starts
  uint32_t writeEnd_ = 0;   // tail after commit
  uint32_t filled_ = 0;     // data bytes appended so far
  uint32_t dataAt_ = 0;
  uint32_t size_ = 0;
  bool wrapped_ = false;    // a wrap marker goes at the old tail on commit
};

}  // namespace teddy
