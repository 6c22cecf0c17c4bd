// Protocol v1 messages (docs/protocol.md, docs/protocol.cddl) as fixed-size
// structs, with their deterministic CBOR encoding and validating decoding.
//
// Decoded strings, audio and the warm manifest's clip list are views into the
// payload buffer: keep it alive while you use the message. Nothing allocates.
//
// decode() answers like the gateway's codec (protocol/codec.ts):
//   Malformed    not exactly one well-formed CBOR item        (error code 1)
//   Invalid      well-formed, but not the message's schema    (error code 2)
//   Unsupported  key 0 names no known message type            (error code 3)
//   TooLarge     a list longer than this device keeps         (error code 4)
// Unknown map keys are skipped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "teddy/cbor.h"
#include "teddy/status.h"
#include "teddy/types.h"

namespace teddy::protocol {

enum class MessageType : uint8_t {
  Hello = 1,
  Welcome = 2,
  Utterance = 3,
  Answer = 4,
  ClipGet = 5,
  Clip = 6,
  Warm = 7,
  WarmAck = 8,
  Stats = 9,
  Error = 15,
};

enum class ErrorCode : uint8_t {
  Malformed = 1,
  Invalid = 2,
  UnknownType = 3,
  TooLarge = 4,
  RateLimited = 5,
  NotFound = 6,
  Upstream = 7,
  Internal = 8,
};

enum class UtteranceFormat : uint8_t { Pcm16k = 0, Mulaw8k = 1, Text = 2 };

// Protocol bounds (docs/protocol.cddl).
constexpr size_t kMaxFwBytes = 32;
constexpr size_t kMaxVoiceBytes = 32;
constexpr size_t kMaxUrlBytes = 512;
constexpr size_t kMaxReplyBytes = 1024;
constexpr size_t kMaxErrorTextBytes = 128;
constexpr size_t kMaxAudioBytes = 256 * 1024;
constexpr size_t kMaxListedClips = 256;

// Device-side cap: clip-id lists (hello, warmAck) are copied into the struct,
// so they are bounded by RAM, not by the protocol's 256. A hello lists the
// first kMaxListedIds clips the bear holds; a manifest applies its first
// kMaxListedIds clips (priority order). 32 ids = 256 bytes per list.
constexpr size_t kMaxListedIds = 32;

struct ClipIdList {
  uint16_t count = 0;
  std::array<ClipId, kMaxListedIds> ids{};

  /** False when full. */
  bool push(const ClipId& id);
};

/** A clip as the gateway describes it (docs/protocol.md, "clip"). */
struct ClipRef {
  ClipId id{};
  Digest sha256{};
  uint32_t size = 0;
  cbor::Text url;
  uint32_t expires = 0;
  bool hasInline = false;
  cbor::Bytes inlineBytes;
  bool hasCodec = false;
  uint8_t codec = 0;
  bool hasPriority = false;
  uint16_t priority = 0;
  bool hasPinned = false;
  bool pinned = false;
};

/**
 * The clips of a warm manifest, still encoded: up to 256 clip maps, each with
 * a URL of up to 512 bytes, would not fit a struct. decode() validated every
 * entry; ClipCursor reads them one at a time.
 */
struct ClipList {
  cbor::Bytes items;  // the encoded clip maps, back to back
  uint16_t count = 0;
};

class ClipCursor {
 public:
  ClipCursor() : reader_(nullptr, 0), left_(0) {}
  explicit ClipCursor(const ClipList& list) : reader_(list.items), left_(list.count) {}
  /** Ok and the next clip; NotFound after the last one. */
  Status next(ClipRef& clip);

 private:
  cbor::Reader reader_;
  uint16_t left_;
};

struct Hello {
  uint32_t id = 0;
  cbor::Text fw;
  uint32_t flashBudget = 0;
  ClipIdList clips;
  uint32_t warmSeq = 0;
};

struct Welcome {
  uint32_t id = 0;
  uint32_t time = 0;
  uint32_t warmSeq = 0;
  uint32_t maxRequestBytes = 0;
};

struct Utterance {
  uint32_t id = 0;
  cbor::Bytes audio;
  uint8_t format = 0;
  bool hasVoice = false;
  cbor::Text voice;
};

struct Answer {
  uint32_t id = 0;
  cbor::Text reply;
  ClipRef clip;
  uint8_t source = 0;
};

struct ClipGet {
  uint32_t id = 0;
  ClipId clipId{};
  bool hasMaxInline = false;
  uint32_t maxInline = 0;
};

struct ClipMsg {
  uint32_t id = 0;
  ClipRef clip;
};

struct Warm {
  uint32_t seq = 0;
  ClipList clips;
  uint32_t totalBytes = 0;
};

struct WarmAck {
  uint32_t seq = 0;
  ClipIdList stored;
  ClipIdList failed;
  uint32_t bytesUsed = 0;
};

struct Stats {
  uint32_t flashHits = 0;
  uint32_t flashMisses = 0;
  uint32_t bytesUsed = 0;
  uint32_t clipCount = 0;
  uint32_t evictions = 0;
  uint32_t maxEraseCount = 0;
  uint32_t uptime = 0;
};

struct ErrorMsg {
  uint32_t id = 0;
  uint8_t code = 0;
  cbor::Text message;
};

/** One message of any type; only the member named by `type` is meaningful. */
struct Message {
  MessageType type = MessageType::Hello;
  union {
    Hello hello;
    Welcome welcome;
    Utterance utterance;
    Answer answer;
    ClipGet clipGet;
    ClipMsg clip;
    Warm warm;
    WarmAck warmAck;
    Stats stats;
    ErrorMsg error;
  };
  Message() : hello() {}
};

/**
 * Decodes one payload into `out`. On failure `requestId` (if given) holds the
 * message's correlation id when it could be read, else 0, for an error reply.
 */
Status decode(const uint8_t* data, size_t size, Message& out, uint32_t* requestId = nullptr);

/** Encodes `msg` into buf; `written` is the payload size on Ok. TooLarge if buf is too small. */
Status encode(const Message& msg, uint8_t* buf, size_t capacity, size_t& written);

/** The correlation id of a request/response message, 0 for warm, warmAck and stats. */
uint32_t correlationId(const Message& msg);

/** The protocol error code that answers a decode() failure. */
ErrorCode errorCodeFor(Status decodeStatus);

}  // namespace teddy::protocol
