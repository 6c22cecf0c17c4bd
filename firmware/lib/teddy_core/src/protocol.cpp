#include "teddy/protocol.h"

#include <cstddef>
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

Status readText(Reader& r, size_t max, cbor::Text& out) {
  TEDDY_TRY(r.text(out));
  return out.size <= max ? Status::Ok : Status::Invalid;
}

Status readBytes(Reader& r, size_t max, cbor::Bytes& out) {
  TEDDY_TRY(r.bytes(out));
  return out.size <= max ? Status::Ok : Status::Invalid;
}

/** A byte string of exactly `n` bytes (a clip id, a digest). */
Status readFixed(Reader& r, uint8_t* out, size_t n) {
  cbor::Bytes b;
  TEDDY_TRY(r.bytes(b));
  if (b.size != n) return Status::Invalid;
  std::memcpy(out, b.data, n);
  return Status::Ok;
}

Status readIdList(Reader& r, ClipIdList& out) {
  uint64_t count;
  TEDDY_TRY(r.array(count));
  if (count > kMaxListedClips) return Status::Invalid;
  if (count > kMaxListedIds) return Status::TooLarge;
  out.count = static_cast<uint16_t>(count);
  for (uint16_t i = 0; i < out.count; ++i) TEDDY_TRY(readFixed(r, out.ids[i].data(), sizeof(ClipId)));
  return Status::Ok;
}

// ---- the schema: every message (and the clip map) as a table of fields ----
//
// One table per map, fields in ascending key order (so encoding writes them in the
// protocol's deterministic order). Decoding and encoding walk the tables; this keeps
// the codec small on the device (one loop instead of a reader and a writer per message).

// Uint: an unsigned integer of 2^maxLog2 bytes (1, 2 or 4); Fixed: exactly 2^maxLog2 bytes (id, digest).
enum class Kind : uint8_t { Uint, Bool, Text, Bytes, Fixed, IdList, Clip, ClipList };
constexpr uint16_t kNoFlag = 0xffff;

struct Field {
  uint8_t key;
  Kind kind;
  uint8_t maxLog2;  // Text/Bytes: the byte bound; Uint/Fixed: the size; a power of two (8 bytes a field, not 12)
  uint16_t at;      // offset of the value in its struct
  uint16_t flag;    // offset of its "present" bool, or kNoFlag (always present)
};

constexpr uint8_t log2(size_t bound) { return bound <= 1 ? 0 : static_cast<uint8_t>(1 + log2(bound / 2)); }
constexpr bool powerOfTwo(size_t n) { return n != 0 && (n & (n - 1)) == 0; }
static_assert(powerOfTwo(kMaxUrlBytes) && powerOfTwo(kMaxAudioBytes) && powerOfTwo(kMaxFwBytes) && powerOfTwo(kMaxVoiceBytes) &&
                  powerOfTwo(kMaxReplyBytes) && powerOfTwo(kMaxErrorTextBytes),
              "Field::maxLog2 holds the protocol's byte bounds");

struct Schema {
  const Field* fields;
  uint8_t count;
  uint16_t size;      // sizeof the struct (reset to all-zero, its defaults, before decoding)
  uint32_t required;  // a bit per key that must be present
};

constexpr uint32_t keys(uint32_t upTo) { return ((1u << (upTo + 1)) - 1) & ~1u; }  // keys 1..upTo

#define TEDDY_F(T, key, kind, member, max) {key, Kind::kind, log2(max), offsetof(T, member), kNoFlag}
#define TEDDY_OPT(T, key, kind, member, flag, max) {key, Kind::kind, log2(max), offsetof(T, member), offsetof(T, flag)}
#define TEDDY_U(T, key, member) TEDDY_F(T, key, Uint, member, sizeof(T::member))
#define TEDDY_OPT_U(T, key, member, flag) TEDDY_OPT(T, key, Uint, member, flag, sizeof(T::member))
#define TEDDY_X(T, key, member) TEDDY_F(T, key, Fixed, member, sizeof(T::member))

constexpr Field kClipFields[] = {
    TEDDY_X(ClipRef, 0, id),          TEDDY_X(ClipRef, 1, sha256),
    TEDDY_U(ClipRef, 2, size),       TEDDY_F(ClipRef, 3, Text, url, kMaxUrlBytes),
    TEDDY_U(ClipRef, 4, expires),    TEDDY_OPT(ClipRef, 5, Bytes, inlineBytes, hasInline, kMaxAudioBytes),
    TEDDY_OPT_U(ClipRef, 6, codec, hasCodec), TEDDY_OPT_U(ClipRef, 7, priority, hasPriority),
    TEDDY_OPT(ClipRef, 8, Bool, pinned, hasPinned, 0),
};
constexpr Field kHelloFields[] = {
    TEDDY_U(Hello, 1, id), TEDDY_F(Hello, 2, Text, fw, kMaxFwBytes), TEDDY_U(Hello, 3, flashBudget),
    TEDDY_F(Hello, 4, IdList, clips, 0), TEDDY_U(Hello, 5, warmSeq),
};
constexpr Field kWelcomeFields[] = {
    TEDDY_U(Welcome, 1, id), TEDDY_U(Welcome, 2, time), TEDDY_U(Welcome, 3, warmSeq),
    TEDDY_U(Welcome, 4, maxRequestBytes),
};
constexpr Field kUtteranceFields[] = {
    TEDDY_U(Utterance, 1, id), TEDDY_F(Utterance, 2, Bytes, audio, kMaxAudioBytes),
    TEDDY_U(Utterance, 3, format), TEDDY_OPT(Utterance, 4, Text, voice, hasVoice, kMaxVoiceBytes),
};
constexpr Field kAnswerFields[] = {
    TEDDY_U(Answer, 1, id), TEDDY_F(Answer, 2, Text, reply, kMaxReplyBytes), TEDDY_F(Answer, 3, Clip, clip, 0),
    TEDDY_U(Answer, 4, source),
};
constexpr Field kClipGetFields[] = {
    TEDDY_U(ClipGet, 1, id), TEDDY_X(ClipGet, 2, clipId),
    TEDDY_OPT_U(ClipGet, 3, maxInline, hasMaxInline),
};
constexpr Field kClipMsgFields[] = {TEDDY_U(ClipMsg, 1, id), TEDDY_F(ClipMsg, 2, Clip, clip, 0)};
constexpr Field kWarmFields[] = {
    TEDDY_U(Warm, 2, seq), TEDDY_F(Warm, 3, ClipList, clips, 0), TEDDY_U(Warm, 4, totalBytes),
};
constexpr Field kWarmAckFields[] = {
    TEDDY_U(WarmAck, 2, seq), TEDDY_F(WarmAck, 3, IdList, stored, 0), TEDDY_F(WarmAck, 4, IdList, failed, 0),
    TEDDY_U(WarmAck, 5, bytesUsed),
};
constexpr Field kStatsFields[] = {
    TEDDY_U(Stats, 2, flashHits), TEDDY_U(Stats, 3, flashMisses), TEDDY_U(Stats, 4, bytesUsed),
    TEDDY_U(Stats, 5, clipCount), TEDDY_U(Stats, 6, evictions), TEDDY_U(Stats, 7, maxEraseCount),
    TEDDY_U(Stats, 8, uptime),
};
constexpr Field kErrorFields[] = {
    TEDDY_U(ErrorMsg, 1, id), TEDDY_U(ErrorMsg, 2, code), TEDDY_F(ErrorMsg, 3, Text, message, kMaxErrorTextBytes),
};
#undef TEDDY_F
#undef TEDDY_OPT
#undef TEDDY_U
#undef TEDDY_OPT_U
#undef TEDDY_X

template <typename T, size_t N>
constexpr Schema schema(const Field (&fields)[N], uint32_t required) {
  return {fields, static_cast<uint8_t>(N), static_cast<uint16_t>(sizeof(T)), required};
}

constexpr Schema kClipSchema = schema<ClipRef>(kClipFields, keys(4) | 1u);
// correlationId() reads the id through the union's first member.
static_assert(offsetof(Hello, id) == 0 && offsetof(Welcome, id) == 0 && offsetof(Utterance, id) == 0 && offsetof(Answer, id) == 0 &&
                  offsetof(ClipGet, id) == 0 && offsetof(ClipMsg, id) == 0 && offsetof(ErrorMsg, id) == 0,
              "the correlation id is every such message's first member");
static_assert(static_cast<int>(Status::Invalid) == static_cast<int>(Status::Malformed) + 1 &&
                  static_cast<int>(Status::Unsupported) == static_cast<int>(Status::Malformed) + 2 &&
                  static_cast<int>(Status::TooLarge) == static_cast<int>(Status::Malformed) + 3 &&
                  static_cast<int>(ErrorCode::Malformed) == 1 && static_cast<int>(ErrorCode::TooLarge) == 4,
              "errorCodeFor maps Malformed..TooLarge onto codes 1..4");
// Indexed by MessageType code; Error (15) is the last.
constexpr Schema kMessageSchemas[] = {
    {nullptr, 0, 0, 0},
    schema<Hello>(kHelloFields, keys(5)),
    schema<Welcome>(kWelcomeFields, keys(4)),
    schema<Utterance>(kUtteranceFields, keys(3)),
    schema<Answer>(kAnswerFields, keys(4)),
    schema<ClipGet>(kClipGetFields, keys(2)),
    schema<ClipMsg>(kClipMsgFields, keys(2)),
    schema<Warm>(kWarmFields, keys(4) & ~2u),
    schema<WarmAck>(kWarmAckFields, keys(5) & ~2u),
    schema<Stats>(kStatsFields, keys(8) & ~2u),
    schema<ErrorMsg>(kErrorFields, keys(3)),
};

const Schema* schemaOf(MessageType type) {
  const uint8_t code = static_cast<uint8_t>(type);
  if (code >= 1 && code <= 9) return &kMessageSchemas[code];
  return type == MessageType::Error ? &kMessageSchemas[10] : nullptr;
}

template <typename T>
T& at(uint8_t* base, uint16_t offset) {
  return *reinterpret_cast<T*>(base + offset);
}
template <typename T>
const T& at(const uint8_t* base, uint16_t offset) {
  return *reinterpret_cast<const T*>(base + offset);
}

Status readStruct(Reader& r, uint64_t pairs, const Schema& s, uint8_t* base);
Status readClipList(Reader& r, ClipList& out);

Status readField(Reader& r, const Field& f, uint8_t* base) {
  uint64_t v = 0;
  switch (f.kind) {
    case Kind::Uint:
      TEDDY_TRY(readUint(r, f.maxLog2 == 2 ? kU32Max : (1u << (8u << f.maxLog2)) - 1, v));
      if (f.maxLog2 == 0) at<uint8_t>(base, f.at) = static_cast<uint8_t>(v);
      else if (f.maxLog2 == 1) at<uint16_t>(base, f.at) = static_cast<uint16_t>(v);
      else at<uint32_t>(base, f.at) = static_cast<uint32_t>(v);
      break;
    case Kind::Bool: TEDDY_TRY(r.boolean(at<bool>(base, f.at))); break;
    case Kind::Text: TEDDY_TRY(readText(r, size_t{1} << f.maxLog2, at<cbor::Text>(base, f.at))); break;
    case Kind::Bytes: TEDDY_TRY(readBytes(r, size_t{1} << f.maxLog2, at<cbor::Bytes>(base, f.at))); break;
    case Kind::Fixed: TEDDY_TRY(readFixed(r, base + f.at, size_t{1} << f.maxLog2)); break;
    case Kind::IdList: TEDDY_TRY(readIdList(r, at<ClipIdList>(base, f.at))); break;
    case Kind::Clip:
      TEDDY_TRY(r.map(v));
      TEDDY_TRY(readStruct(r, v, kClipSchema, base + f.at));
      break;
    case Kind::ClipList: TEDDY_TRY(readClipList(r, at<ClipList>(base, f.at))); break;
  }
  if (f.flag != kNoFlag) at<bool>(base, f.flag) = true;
  return Status::Ok;
}

/**
 * Reads a map of `pairs` entries into the struct at `base` (reset to its defaults
 * first). Keys that are not unsigned integers, and keys not in the schema, are
 * skipped; a repeated key: the last one wins. Invalid unless every required key
 * was present.
 */
Status readStruct(Reader& r, uint64_t pairs, const Schema& s, uint8_t* base) {
  std::memset(static_cast<void*>(base), 0, s.size);  // every struct's defaults are all-zero
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
    const Field* f = nullptr;
    for (uint8_t k = 0; k < s.count; ++k)
      if (s.fields[k].key == key) f = &s.fields[k];
    if (f == nullptr) {
      TEDDY_TRY(r.skip());
      continue;
    }
    TEDDY_TRY(readField(r, *f, base));
    seen |= 1u << key;  // schema keys are all < 32
  }
  return (seen & s.required) == s.required ? Status::Ok : Status::Invalid;
}

Status readClip(Reader& r, ClipRef& c) {
  uint64_t pairs;
  TEDDY_TRY(r.map(pairs));
  return readStruct(r, pairs, kClipSchema, reinterpret_cast<uint8_t*>(&c));
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

bool knownType(uint64_t code) { return code <= 0xff && schemaOf(static_cast<MessageType>(code)) != nullptr; }

// ---- writers ----

void writeIds(Writer& w, const ClipIdList& list) {
  w.array(list.count);
  for (uint16_t i = 0; i < list.count; ++i) w.bytes(list.ids[i].data(), list.ids[i].size());
}

bool present(const Field& f, const uint8_t* base) { return f.flag == kNoFlag || at<bool>(base, f.flag); }

Status writeStruct(Writer& w, const Schema& s, const uint8_t* base, const MessageType* type);

Status writeField(Writer& w, const Field& f, const uint8_t* base) {
  switch (f.kind) {
    case Kind::Uint:
      w.uint(f.maxLog2 == 0 ? at<uint8_t>(base, f.at) : f.maxLog2 == 1 ? at<uint16_t>(base, f.at) : at<uint32_t>(base, f.at));
      break;
    case Kind::Bool: w.boolean(at<bool>(base, f.at)); break;
    case Kind::Text: w.text(at<cbor::Text>(base, f.at)); break;
    case Kind::Bytes: w.bytes(at<cbor::Bytes>(base, f.at)); break;
    case Kind::Fixed: w.bytes(base + f.at, size_t{1} << f.maxLog2); break;
    case Kind::IdList: writeIds(w, at<ClipIdList>(base, f.at)); break;
    case Kind::Clip: return writeStruct(w, kClipSchema, base + f.at, nullptr);
    case Kind::ClipList: {
      const ClipList& list = at<ClipList>(base, f.at);
      w.array(list.count);
      ClipCursor cursor(list);
      ClipRef clip;
      for (uint16_t i = 0; i < list.count; ++i) {
        TEDDY_TRY(cursor.next(clip));
        TEDDY_TRY(writeStruct(w, kClipSchema, reinterpret_cast<const uint8_t*>(&clip), nullptr));
      }
      break;
    }
  }
  return Status::Ok;
}

/** Writes the struct's present fields as a map in key order, with key 0 = `type` first for a message. */
Status writeStruct(Writer& w, const Schema& s, const uint8_t* base, const MessageType* type) {
  uint64_t pairs = type != nullptr;
  for (uint8_t k = 0; k < s.count; ++k) pairs += present(s.fields[k], base);
  w.map(pairs);
  if (type != nullptr) w.uint(0), w.uint(static_cast<uint8_t>(*type));
  for (uint8_t k = 0; k < s.count; ++k) {
    const Field& f = s.fields[k];
    if (!present(f, base)) continue;
    w.uint(f.key);
    TEDDY_TRY(writeField(w, f, base));
  }
  return Status::Ok;
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
  return readStruct(r, pairs, *schemaOf(out.type), reinterpret_cast<uint8_t*>(&out.hello));  // the union's start
}

Status encode(const Message& msg, uint8_t* buf, size_t capacity, size_t& written) {
  const Schema* s = schemaOf(msg.type);
  if (s == nullptr) return Status::Invalid;
  Writer w(buf, capacity);
  TEDDY_TRY(writeStruct(w, *s, reinterpret_cast<const uint8_t*>(&msg.hello), &msg.type));
  TEDDY_TRY(w.status());
  written = w.size();
  return Status::Ok;
}

uint32_t correlationId(const Message& m) {
  // Every message with a correlation id has it as key 1, its struct's first member.
  const Schema* s = schemaOf(m.type);
  return s != nullptr && s->fields[0].key == 1 ? m.hello.id : 0;
}

ErrorCode errorCodeFor(Status s) {
  // Malformed, Invalid, Unsupported, TooLarge map onto codes 1..4 in order; anything else is internal.
  const auto i = static_cast<uint8_t>(s);
  return i >= static_cast<uint8_t>(Status::Malformed) && i <= static_cast<uint8_t>(Status::TooLarge)
             ? static_cast<ErrorCode>(i - static_cast<uint8_t>(Status::Malformed) + 1)
             : ErrorCode::Internal;
}

}  // namespace teddy::protocol
