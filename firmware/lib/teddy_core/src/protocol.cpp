#include "teddy/protocol.h"

#include <cstring>

namespace teddy::protocol {

namespace {

using cbor::Reader;
using cbor::Writer;

#define TEDDY_TRY(expr)                    \
  do {                                     \
    const Status status_ = (expr);         \
    if (status_ != Status::Ok) return status_; \
  } while (0)

constexpr uint64_t kU32Max = 0xffffffffu;

// ---- field readers: after wellFormed() passed, any failure is a schema error ----

Status readUint(Reader& r, uint64_t max, uint64_t& out) {
  TEDDY_TRY(r.uint(out));
  return out <= max ? Status::Ok : Status::Invalid;
}

Status readU32(Reader& r, uint32_t& out) {
  uint64_t v;
  TEDDY_TRY(readUint(r, kU32Max, v));
  out = static_cast<uint32_t>(v);
  return Status::Ok;
}

Status readU8(Reader& r, uint8_t& out) {
  uint64_t v;
  TEDDY_TRY(readUint(r, 0xff, v));
  out = static_cast<uint8_t>(v);
  return Status::Ok;
}

Status readText(Reader& r, size_t max, cbor::Text& out) {
  TEDDY_TRY(r.text(out));
  return out.size <= max ? Status::Ok : Status::Invalid;
}

Status readBytes(Reader& r, size_t max, cbor::Bytes& out) {
  TEDDY_TRY(r.bytes(out));
  return out.size <= max ? Status::Ok : Status::Invalid;
}

template <size_t N>
Status readExact(Reader& r, std::array<uint8_t, N>& out) {
  cbor::Bytes b;
  TEDDY_TRY(r.bytes(b));
  if (b.size != N) return Status::Invalid;
  std::memcpy(out.data(), b.data, N);
  return Status::Ok;
}

Status readIdList(Reader& r, ClipIdList& out) {
  uint64_t count;
  TEDDY_TRY(r.array(count));
  if (count > kMaxListedClips) return Status::Invalid;
  if (count > kMaxListedIds) return Status::TooLarge;
  out.count = static_cast<uint16_t>(count);
  for (uint16_t i = 0; i < out.count; ++i) TEDDY_TRY(readExact(r, out.ids[i]));
  return Status::Ok;
}

/**
 * Reads a map of `pairs` entries, handing each unsigned key to field(key, known),
 * which reads the value and sets known, or leaves the value for skipping.
 * Keys that are not unsigned integers, and unknown keys, are skipped.
 * Invalid unless every key in `required` (a bit per key) was present.
 */
template <typename Field>
Status readFields(Reader& r, uint64_t pairs, uint32_t required, Field&& field) {
  uint32_t seen = 0;
  for (uint64_t i = 0; i < pairs; ++i) {
    cbor::Major major;
    TEDDY_TRY(r.peek(major));
    if (major != cbor::Major::Uint) {
      TEDDY_TRY(r.skip());
      TEDDY_TRY(r.skip());
      continue;
    }
    uint64_t key;
    TEDDY_TRY(r.uint(key));
    bool known = false;
    TEDDY_TRY(field(key, known));
    if (!known) {
      TEDDY_TRY(r.skip());
      continue;
    }
    seen |= 1u << key;  // known keys are all < 32
  }
  return (seen & required) == required ? Status::Ok : Status::Invalid;
}

constexpr uint32_t keys(uint32_t upTo) { return ((1u << (upTo + 1)) - 1) & ~1u; }  // keys 1..upTo

Status readClip(Reader& r, ClipRef& c) {
  uint64_t pairs;
  TEDDY_TRY(r.map(pairs));
  c = ClipRef{};
  return readFields(r, pairs, keys(4) | 1u, [&](uint64_t key, bool& known) -> Status {
    known = key <= 8;
    uint64_t v;
    switch (key) {
      case 0: return readExact(r, c.id);
      case 1: return readExact(r, c.sha256);
      case 2: return readU32(r, c.size);
      case 3: return readText(r, kMaxUrlBytes, c.url);
      case 4: return readU32(r, c.expires);
      case 5: c.hasInline = true; return readBytes(r, kMaxAudioBytes, c.inlineBytes);
      case 6: c.hasCodec = true; return readU8(r, c.codec);
      case 7:
        c.hasPriority = true;
        TEDDY_TRY(readUint(r, 0xffff, v));
        c.priority = static_cast<uint16_t>(v);
        return Status::Ok;
      case 8: c.hasPinned = true; return r.boolean(c.pinned);
      default: return Status::Ok;
    }
  });
}

Status readClipList(Reader& r, ClipList& out) {
  uint64_t count;
  TEDDY_TRY(r.array(count));
  if (count > kMaxListedClips) return Status::Invalid;
  const size_t start = r.offset();
  ClipRef scratch;
  for (uint64_t i = 0; i < count; ++i) TEDDY_TRY(readClip(r, scratch));
  out.items = r.since(start);
  out.count = static_cast<uint16_t>(count);
  return Status::Ok;
}

Status readBody(Reader& r, uint64_t pairs, Message& m) {
  switch (m.type) {
    case MessageType::Hello:
      m.hello = Hello{};
      return readFields(r, pairs, keys(5), [&](uint64_t key, bool& known) -> Status {
        known = key >= 1 && key <= 5;
        switch (key) {
          case 1: return readU32(r, m.hello.id);
          case 2: return readText(r, kMaxFwBytes, m.hello.fw);
          case 3: return readU32(r, m.hello.flashBudget);
          case 4: return readIdList(r, m.hello.clips);
          case 5: return readU32(r, m.hello.warmSeq);
          default: return Status::Ok;
        }
      });
    case MessageType::Welcome:
      m.welcome = Welcome{};
      return readFields(r, pairs, keys(4), [&](uint64_t key, bool& known) -> Status {
        known = key >= 1 && key <= 4;
        switch (key) {
          case 1: return readU32(r, m.welcome.id);
          case 2: return readU32(r, m.welcome.time);
          case 3: return readU32(r, m.welcome.warmSeq);
          case 4: return readU32(r, m.welcome.maxRequestBytes);
          default: return Status::Ok;
        }
      });
    case MessageType::Utterance:
      m.utterance = Utterance{};
      return readFields(r, pairs, keys(3), [&](uint64_t key, bool& known) -> Status {
        known = key >= 1 && key <= 4;
        switch (key) {
          case 1: return readU32(r, m.utterance.id);
          case 2: return readBytes(r, kMaxAudioBytes, m.utterance.audio);
          case 3: return readU8(r, m.utterance.format);
          case 4: m.utterance.hasVoice = true; return readText(r, kMaxVoiceBytes, m.utterance.voice);
          default: return Status::Ok;
        }
      });
    case MessageType::Answer:
      m.answer = Answer{};
      return readFields(r, pairs, keys(4), [&](uint64_t key, bool& known) -> Status {
        known = key >= 1 && key <= 4;
        switch (key) {
          case 1: return readU32(r, m.answer.id);
          case 2: return readText(r, kMaxReplyBytes, m.answer.reply);
          case 3: return readClip(r, m.answer.clip);
          case 4: return readU8(r, m.answer.source);
          default: return Status::Ok;
        }
      });
    case MessageType::ClipGet:
      m.clipGet = ClipGet{};
      return readFields(r, pairs, keys(2), [&](uint64_t key, bool& known) -> Status {
        known = key >= 1 && key <= 3;
        switch (key) {
          case 1: return readU32(r, m.clipGet.id);
          case 2: return readExact(r, m.clipGet.clipId);
          case 3: m.clipGet.hasMaxInline = true; return readU32(r, m.clipGet.maxInline);
          default: return Status::Ok;
        }
      });
    case MessageType::Clip:
      m.clip = ClipMsg{};
      return readFields(r, pairs, keys(2), [&](uint64_t key, bool& known) -> Status {
        known = key == 1 || key == 2;
        if (key == 1) return readU32(r, m.clip.id);
        if (key == 2) return readClip(r, m.clip.clip);
        return Status::Ok;
      });
    case MessageType::Warm:
      m.warm = Warm{};
      return readFields(r, pairs, keys(4) & ~2u, [&](uint64_t key, bool& known) -> Status {
        known = key >= 2 && key <= 4;
        switch (key) {
          case 2: return readU32(r, m.warm.seq);
          case 3: return readClipList(r, m.warm.clips);
          case 4: return readU32(r, m.warm.totalBytes);
          default: return Status::Ok;
        }
      });
    case MessageType::WarmAck:
      m.warmAck = WarmAck{};
      return readFields(r, pairs, keys(5) & ~2u, [&](uint64_t key, bool& known) -> Status {
        known = key >= 2 && key <= 5;
        switch (key) {
          case 2: return readU32(r, m.warmAck.seq);
          case 3: return readIdList(r, m.warmAck.stored);
          case 4: return readIdList(r, m.warmAck.failed);
          case 5: return readU32(r, m.warmAck.bytesUsed);
          default: return Status::Ok;
        }
      });
    case MessageType::Stats: {
      m.stats = Stats{};
      uint32_t* const fields[] = {&m.stats.flashHits, &m.stats.flashMisses, &m.stats.bytesUsed, &m.stats.clipCount,
                                  &m.stats.evictions, &m.stats.maxEraseCount, &m.stats.uptime};
      return readFields(r, pairs, keys(8) & ~2u, [&](uint64_t key, bool& known) -> Status {
        known = key >= 2 && key <= 8;
        return known ? readU32(r, *fields[key - 2]) : Status::Ok;
      });
    }
    case MessageType::Error:
      m.error = ErrorMsg{};
      return readFields(r, pairs, keys(3), [&](uint64_t key, bool& known) -> Status {
        known = key >= 1 && key <= 3;
        switch (key) {
          case 1: return readU32(r, m.error.id);
          case 2: return readU8(r, m.error.code);
          case 3: return readText(r, kMaxErrorTextBytes, m.error.message);
          default: return Status::Ok;
        }
      });
  }
  return Status::Unsupported;
}

bool knownType(uint64_t code) {
  return (code >= 1 && code <= 9) || code == static_cast<uint64_t>(MessageType::Error);
}

// ---- writers ----

void writeIds(Writer& w, const ClipIdList& list) {
  w.array(list.count);
  for (uint16_t i = 0; i < list.count; ++i) w.bytes(list.ids[i].data(), list.ids[i].size());
}

void writeClip(Writer& w, const ClipRef& c) {
  w.map(5u + c.hasInline + c.hasCodec + c.hasPriority + c.hasPinned);
  w.uint(0);
  w.bytes(c.id.data(), c.id.size());
  w.uint(1);
  w.bytes(c.sha256.data(), c.sha256.size());
  w.uint(2);
  w.uint(c.size);
  w.uint(3);
  w.text(c.url);
  w.uint(4);
  w.uint(c.expires);
  if (c.hasInline) {
    w.uint(5);
    w.bytes(c.inlineBytes);
  }
  if (c.hasCodec) {
    w.uint(6);
    w.uint(c.codec);
  }
  if (c.hasPriority) {
    w.uint(7);
    w.uint(c.priority);
  }
  if (c.hasPinned) {
    w.uint(8);
    w.boolean(c.pinned);
  }
}

/** Writes the map head, key 0 and, for messages that have one, key 1. */
void writeHead(Writer& w, MessageType type, uint64_t pairs, const uint32_t* id) {
  w.map(pairs + 1 + (id != nullptr));
  w.uint(0);
  w.uint(static_cast<uint8_t>(type));
  if (id != nullptr) {
    w.uint(1);
    w.uint(*id);
  }
}

Status writeBody(Writer& w, const Message& m) {
  switch (m.type) {
    case MessageType::Hello:
      writeHead(w, m.type, 4, &m.hello.id);
      w.uint(2), w.text(m.hello.fw);
      w.uint(3), w.uint(m.hello.flashBudget);
      w.uint(4), writeIds(w, m.hello.clips);
      w.uint(5), w.uint(m.hello.warmSeq);
      return Status::Ok;
    case MessageType::Welcome:
      writeHead(w, m.type, 3, &m.welcome.id);
      w.uint(2), w.uint(m.welcome.time);
      w.uint(3), w.uint(m.welcome.warmSeq);
      w.uint(4), w.uint(m.welcome.maxRequestBytes);
      return Status::Ok;
    case MessageType::Utterance:
      writeHead(w, m.type, 2u + m.utterance.hasVoice, &m.utterance.id);
      w.uint(2), w.bytes(m.utterance.audio);
      w.uint(3), w.uint(m.utterance.format);
      if (m.utterance.hasVoice) w.uint(4), w.text(m.utterance.voice);
      return Status::Ok;
    case MessageType::Answer:
      writeHead(w, m.type, 3, &m.answer.id);
      w.uint(2), w.text(m.answer.reply);
      w.uint(3), writeClip(w, m.answer.clip);
      w.uint(4), w.uint(m.answer.source);
      return Status::Ok;
    case MessageType::ClipGet:
      writeHead(w, m.type, 1u + m.clipGet.hasMaxInline, &m.clipGet.id);
      w.uint(2), w.bytes(m.clipGet.clipId.data(), m.clipGet.clipId.size());
      if (m.clipGet.hasMaxInline) w.uint(3), w.uint(m.clipGet.maxInline);
      return Status::Ok;
    case MessageType::Clip:
      writeHead(w, m.type, 1, &m.clip.id);
      w.uint(2), writeClip(w, m.clip.clip);
      return Status::Ok;
    case MessageType::Warm: {
      writeHead(w, m.type, 3, nullptr);
      w.uint(2), w.uint(m.warm.seq);
      w.uint(3), w.array(m.warm.clips.count);
      ClipCursor cursor(m.warm.clips);
      ClipRef clip;
      for (uint16_t i = 0; i < m.warm.clips.count; ++i) {
        TEDDY_TRY(cursor.next(clip));
        writeClip(w, clip);
      }
      w.uint(4), w.uint(m.warm.totalBytes);
      return Status::Ok;
    }
    case MessageType::WarmAck:
      writeHead(w, m.type, 4, nullptr);
      w.uint(2), w.uint(m.warmAck.seq);
      w.uint(3), writeIds(w, m.warmAck.stored);
      w.uint(4), writeIds(w, m.warmAck.failed);
      w.uint(5), w.uint(m.warmAck.bytesUsed);
      return Status::Ok;
    case MessageType::Stats: {
      const uint32_t values[] = {m.stats.flashHits, m.stats.flashMisses, m.stats.bytesUsed, m.stats.clipCount,
                                 m.stats.evictions, m.stats.maxEraseCount, m.stats.uptime};
      writeHead(w, m.type, 7, nullptr);
      for (uint64_t key = 2; key <= 8; ++key) w.uint(key), w.uint(values[key - 2]);
      return Status::Ok;
    }
    case MessageType::Error:
      writeHead(w, m.type, 2, &m.error.id);
      w.uint(2), w.uint(m.error.code);
      w.uint(3), w.text(m.error.message);
      return Status::Ok;
  }
  return Status::Invalid;
}

}  // namespace

bool ClipIdList::push(const ClipId& id) {
  if (count >= ids.size()) return false;
  ids[count++] = id;
  return true;
}

Status ClipCursor::next(ClipRef& clip) {
  if (left_ == 0) return Status::NotFound;
  TEDDY_TRY(readClip(reader_, clip));
  --left_;
  return Status::Ok;
}

Status decode(const uint8_t* data, size_t size, Message& out, uint32_t* requestId) {
  if (requestId != nullptr) *requestId = 0;
  if (cbor::wellFormed(data, size) != Status::Ok) return Status::Malformed;

  // First pass: the type and the correlation id, wherever they sit in the map.
  Reader scan(data, size);
  uint64_t pairs;
  TEDDY_TRY(scan.map(pairs));  // Invalid: not a map
  uint64_t type = 0;
  bool hasType = false;
  for (uint64_t i = 0; i < pairs; ++i) {
    cbor::Major major;
    TEDDY_TRY(scan.peek(major));
    uint64_t key = 2;  // stands for "not 0 or 1"
    if (major == cbor::Major::Uint) TEDDY_TRY(scan.uint(key));
    else TEDDY_TRY(scan.skip());
    TEDDY_TRY(scan.peek(major));
    uint64_t value;
    if (key <= 1 && major == cbor::Major::Uint) {
      TEDDY_TRY(scan.uint(value));
      if (key == 0) type = value, hasType = true;
      if (key == 1 && requestId != nullptr && value <= kU32Max) *requestId = static_cast<uint32_t>(value);
    } else {
      TEDDY_TRY(scan.skip());
    }
  }
  if (!hasType || !knownType(type)) return Status::Unsupported;

  Reader r(data, size);
  TEDDY_TRY(r.map(pairs));
  out.type = static_cast<MessageType>(type);
  return readBody(r, pairs, out);
}

Status encode(const Message& msg, uint8_t* buf, size_t capacity, size_t& written) {
  Writer w(buf, capacity);
  TEDDY_TRY(writeBody(w, msg));
  TEDDY_TRY(w.status());
  written = w.size();
  return Status::Ok;
}

uint32_t correlationId(const Message& m) {
  switch (m.type) {
    case MessageType::Hello: return m.hello.id;
    case MessageType::Welcome: return m.welcome.id;
    case MessageType::Utterance: return m.utterance.id;
    case MessageType::Answer: return m.answer.id;
    case MessageType::ClipGet: return m.clipGet.id;
    case MessageType::Clip: return m.clip.id;
    case MessageType::Error: return m.error.id;
    default: return 0;
  }
}

ErrorCode errorCodeFor(Status s) {
  switch (s) {
    case Status::Malformed: return ErrorCode::Malformed;
    case Status::Invalid: return ErrorCode::Invalid;
    case Status::Unsupported: return ErrorCode::UnknownType;
    case Status::TooLarge: return ErrorCode::TooLarge;
    default: return ErrorCode::Internal;
  }
}

}  // namespace teddy::protocol
