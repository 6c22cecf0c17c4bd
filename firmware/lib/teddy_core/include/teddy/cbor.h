// A small CBOR (RFC 8949) codec for the protocol subset: unsigned and negative
// integers, byte and text strings, arrays, maps, false/true/null.
//
// The writer streams into a caller buffer and always produces deterministic
// encoding (shortest heads, definite lengths); the caller writes map keys in
// ascending order. The reader walks a byte span without copying: strings come
// back as views into the input. Neither allocates.
//
// Errors: Malformed (not well-formed CBOR: truncated, reserved codes, a lone
// break), Unsupported (well-formed but outside the subset: tags, floats,
// undefined, other simple values, indefinite lengths), TooLarge (nesting
// deeper than the reader's bound, or a writer that ran out of buffer),
// Invalid (a typed read found another type).
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/status.h"

namespace teddy::cbor {

/** Bytes borrowed from a buffer the caller keeps alive (input or output). */
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

/** UTF-8 text borrowed from a buffer; not NUL-terminated. */
struct Text {
  const char* data = nullptr;
  size_t size = 0;
};

enum class Major : uint8_t {
  Uint = 0,
  Negint = 1,
  Bytes = 2,
  Text = 3,
  Array = 4,
  Map = 5,
  Tag = 6,
  Simple = 7,
};

/** Nesting limit of Reader::skip and wellFormed; the protocol needs 4. */
constexpr uint8_t kMaxDepth = 16;

class Writer {
 public:
  Writer(uint8_t* buffer, size_t capacity) : buf_(buffer), cap_(capacity) {}

  void uint(uint64_t value) { head(Major::Uint, value); }
  /** Writes the negative integer -1 - n (CBOR's own representation, so -2^64 fits). */
  void negint(uint64_t n) { head(Major::Negint, n); }
  void bytes(const uint8_t* data, size_t size);
  void text(const char* data, size_t size);
  void text(Text t) { text(t.data, t.size); }
  void bytes(Bytes b) { bytes(b.data, b.size); }
  void array(uint64_t count) { head(Major::Array, count); }
  void map(uint64_t pairs) { head(Major::Map, pairs); }
  void boolean(bool value) { put(value ? 0xf5 : 0xf4); }
  void null() { put(0xf6); }

  /** Ok, or TooLarge once anything did not fit (later writes are dropped). */
  Status status() const { return overflow_ ? Status::TooLarge : Status::Ok; }
  size_t size() const { return len_; }

 private:
  void head(Major major, uint64_t arg);
  void put(uint8_t byte);
  void raw(const uint8_t* data, size_t size);

  uint8_t* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit Reader(Bytes b) : Reader(b.data, b.size) {}

  /** Major type of the next item, without consuming it. */
  Status peek(Major& major) const;
  Status uint(uint64_t& value);
  /** Reads a negative integer as n where the value is -1 - n. */
  Status negint(uint64_t& n);
  Status bytes(Bytes& out);
  Status text(Text& out);
  Status array(uint64_t& count);
  Status map(uint64_t& pairs);
  Status boolean(bool& value);
  Status null();
  /** Skips one complete item, nested up to kMaxDepth. */
  Status skip();

  bool atEnd() const { return pos_ == size_; }
  size_t offset() const { return pos_; }
  /** The bytes from `from` to the current position (e.g. a skipped item). */
  Bytes since(size_t from) const { return {data_ + from, pos_ - from}; }

 private:
  struct Head {
    Major major;
    uint8_t info;  // additional information (low 5 bits of the initial byte)
    uint64_t arg;
  };
  Status head(Head& h, size_t& next) const;
  Status expect(Major major, uint64_t& arg);
  Status string(Major major, Bytes& out);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

/** Ok if [data, data+size) is exactly one well-formed item of the supported subset. */
Status wellFormed(const uint8_t* data, size_t size);

}  // namespace teddy::cbor
