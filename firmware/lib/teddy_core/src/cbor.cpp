#include "teddy/cbor.h"

#include <cstring>

namespace teddy::cbor {

namespace {
constexpr uint8_t kFalse = 20;
constexpr uint8_t kTrue = 21;
constexpr uint8_t kNull = 22;
constexpr uint8_t kIndefinite = 31;
}  // namespace

// ---- Writer ----

void Writer::put(uint8_t byte) { raw(&byte, 1); }

void Writer::raw(const uint8_t* data, size_t size) {
  if (overflow_ || size > cap_ - len_) {
    overflow_ = true;
    return;
  }
  if (size != 0) std::memcpy(buf_ + len_, data, size);
  len_ += size;
}

void Writer::head(Major major, uint64_t arg) {
  const uint8_t mt = static_cast<uint8_t>(static_cast<uint8_t>(major) << 5);
  uint8_t out[9];
  size_t n;
  // Shortest form (RFC 8949 section 4.2.1): the smallest head that holds arg.
  if (arg < 24) {
    out[0] = static_cast<uint8_t>(mt | arg);
    n = 1;
  } else if (arg <= 0xff) {
    out[0] = mt | 24;
    n = 2;
  } else if (arg <= 0xffff) {
    out[0] = mt | 25;
    n = 3;
  } else if (arg <= 0xffffffffu) {
    out[0] = mt | 26;
    n = 5;
  } else {
    out[0] = mt | 27;
    n = 9;
  }
  for (size_t i = 1; i < n; ++i) out[i] = static_cast<uint8_t>(arg >> (8 * (n - 1 - i)));
  raw(out, n);
}

void Writer::bytes(const uint8_t* data, size_t size) {
  head(Major::Bytes, size);
  raw(data, size);
}

void Writer::text(const char* data, size_t size) {
  head(Major::Text, size);
  raw(reinterpret_cast<const uint8_t*>(data), size);
}

// ---- Reader ----

Status Reader::head(Head& h, size_t& next) const {
  if (pos_ >= size_) return Status::Malformed;
  const uint8_t initial = data_[pos_];
  h.major = static_cast<Major>(initial >> 5);
  h.info = initial & 0x1f;
  size_t p = pos_ + 1;
  if (h.info < 24) {
    h.arg = h.info;
  } else if (h.info <= 27) {
    const size_t n = size_t{1} << (h.info - 24);
    if (n > size_ - p) return Status::Malformed;
    h.arg = 0;
    for (size_t i = 0; i < n; ++i) h.arg = (h.arg << 8) | data_[p + i];
    p += n;
  } else if (h.info == kIndefinite && h.major >= Major::Bytes && h.major <= Major::Map) {
    return Status::Unsupported;  // well-formed, but deterministic encoding forbids it
  } else {
    return Status::Malformed;  // reserved 28..30, or a break / indefinite where none can be
  }
  const size_t left = size_ - p;
  switch (h.major) {
    case Major::Bytes:
    case Major::Text:
      if (h.arg > left) return Status::Malformed;  // declared longer than what is there
      break;
    case Major::Array:
      if (h.arg > left) return Status::Malformed;  // every item takes at least one byte
      break;
    case Major::Map:
      if (h.arg > left / 2) return Status::Malformed;
      break;
    case Major::Tag:
      return Status::Unsupported;
    case Major::Simple:
      if (h.info == 24 && h.arg < 32) return Status::Malformed;  // RFC 8949 section 3.3
      if (h.info != kFalse && h.info != kTrue && h.info != kNull) return Status::Unsupported;
      break;
    default:
      break;
  }
  next = p;
  return Status::Ok;
}

Status Reader::peek(Major& major) const {
  Head h;
  size_t next;
  const Status s = head(h, next);
  if (s == Status::Ok) major = h.major;
  return s;
}

Status Reader::expect(Major major, uint64_t& arg) {
  Head h;
  size_t next;
  const Status s = head(h, next);
  if (s != Status::Ok) return s;
  if (h.major != major) return Status::Invalid;
  arg = h.arg;
  pos_ = next;
  return Status::Ok;
}

Status Reader::uint(uint64_t& value) { return expect(Major::Uint, value); }
Status Reader::negint(uint64_t& n) { return expect(Major::Negint, n); }
Status Reader::array(uint64_t& count) { return expect(Major::Array, count); }
Status Reader::map(uint64_t& pairs) { return expect(Major::Map, pairs); }

Status Reader::string(Major major, Bytes& out) {
  uint64_t len;
  const Status s = expect(major, len);
  if (s != Status::Ok) return s;
  out.data = data_ + pos_;
  out.size = static_cast<size_t>(len);  // head() checked it fits in the input
  pos_ += out.size;
  return Status::Ok;
}

Status Reader::bytes(Bytes& out) { return string(Major::Bytes, out); }

Status Reader::text(Text& out) {
  Bytes b;
  const Status s = string(Major::Text, b);
  if (s == Status::Ok) out = {reinterpret_cast<const char*>(b.data), b.size};
  return s;
}

Status Reader::boolean(bool& value) {
  Head h;
  size_t next;
  const Status s = head(h, next);
  if (s != Status::Ok) return s;
  if (h.major != Major::Simple || (h.info != kFalse && h.info != kTrue)) return Status::Invalid;
  value = h.info == kTrue;
  pos_ = next;
  return Status::Ok;
}

Status Reader::null() {
  Head h;
  size_t next;
  const Status s = head(h, next);
  if (s != Status::Ok) return s;
  if (h.major != Major::Simple || h.info != kNull) return Status::Invalid;
  pos_ = next;
  return Status::Ok;
}

Status Reader::skip() {
  // Iterative, with an explicit bounded stack: a nesting bomb costs a counter, not the C stack.
  uint64_t parent[kMaxDepth];
  uint8_t depth = 0;
  uint64_t todo = 1;  // items still to skip at the current level
  for (;;) {
    Head h;
    size_t next;
    const Status s = head(h, next);
    if (s != Status::Ok) return s;
    pos_ = next;
    uint64_t children = 0;
    if (h.major == Major::Bytes || h.major == Major::Text) pos_ += static_cast<size_t>(h.arg);
    if (h.major == Major::Array) children = h.arg;
    if (h.major == Major::Map) children = h.arg * 2;  // head() bounded arg by the input size
    if (children != 0) {
      if (depth == kMaxDepth) return Status::TooLarge;
      parent[depth++] = todo - 1;
      todo = children;
      continue;
    }
    --todo;
    while (todo == 0) {
      if (depth == 0) return Status::Ok;
      todo = parent[--depth];
    }
  }
}

Status wellFormed(const uint8_t* data, size_t size) {
  Reader r(data, size);
  const Status s = r.skip();
  if (s != Status::Ok) return s;
  return r.atEnd() ? Status::Ok : Status::Malformed;  // trailing bytes
}

}  // namespace teddy::cbor
