#include "teddy/session.h"

#include <cstdio>
#include <cstring>

namespace teddy {

using protocol::ClipRef;
using protocol::Message;
using protocol::MessageType;

namespace {

// Wrap-safe "now has reached t" for a 32-bit millisecond clock.
bool reached(uint32_t nowMs, uint32_t t) { return static_cast<int32_t>(nowMs - t) >= 0; }

constexpr size_t kTopicBytes = 96;  // "teddy/v1/" + 64-char id + "/warm" + NUL
constexpr uint8_t kQosRequests = 1;
constexpr uint8_t kQosStats = 0;
/** Backoff step for the first reconnect after losing a ready connection: up to base * 2^2. */
constexpr uint32_t kLostReadyAttempt = 2;

ClipHeader headerOf(const ClipRef& c) {
  ClipHeader h;
  h.id = c.id;
  h.sha256 = c.sha256;
  h.size = c.size;
  h.pinned = c.hasPinned && c.pinned;
  return h;
}

const char* requestName(uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::Hello: return "hello";
    case MessageType::Utterance: return "utterance";
    default: return "clipGet";
  }
}

}  // namespace

Session::Session(const SessionConfig& config, MqttTransport& mqtt, HttpClient& http, FlashCache& flash, Random& random,
                 SessionListener& listener)
    : cfg_(config), mqtt_(mqtt), http_(http), flash_(flash), random_(random), listener_(listener), requests_(config.requests) {}

// The decode scratch is also the one message being composed: nothing is sent while a decoded message
// is still in use (sends come from tick, the application and onConnected, never from a handler).
Message& Session::compose(MessageType type) {
  std::memset(static_cast<void*>(&message_), 0, sizeof message_);  // every message's defaults are all-zero
  message_.type = type;
  return message_;
}

// ---- time ----

void Session::tick(uint32_t nowMs) {
  now_ = nowMs;
  if (!started_) {
    started_ = true;
    bootMs_ = nowMs;
    reconnectAtMs_ = nowMs;
    requests_.startAfter(random_.next());
  }
  if (state_ == SessionState::Disconnected && reached(now_, reconnectAtMs_)) connect();
  if (state_ == SessionState::Connecting && reached(now_, connectDeadlineMs_)) {
    mqtt_.disconnect();
    connectionLost();
  }
  requests_.tick(now_, random_, [this](PendingRequest& r) { resend(r); },
                 [this](const PendingRequest& r) { expired(r); });

  // One range in flight at a time, the child's clip first; the tick never waits for it.
  if (pollRange()) {
    // still in flight
  } else if (playDownload_.active) {
    if (reached(now_, playDownload_.retryAtMs)) stepDownload(playDownload_);
  } else if (warmDownload_.active) {
    if (reached(now_, warmDownload_.retryAtMs)) stepDownload(warmDownload_);
  } else if (warm_.active) {
    advanceWarm();
  }

  if (state_ == SessionState::Ready && reached(now_, nextStatsMs_)) {
    publishStats();
    nextStatsMs_ = now_ + cfg_.statsIntervalMs;
  }
}

// ---- connection ----

void Session::connect() {
  state_ = SessionState::Connecting;
  connectDeadlineMs_ = now_ + cfg_.connectTimeoutMs;
  if (cfg_.gatewayCount == 0 || mqtt_.connect(gateway()) != Status::Ok) {
    listener_.onError("connect", Status::IoError, 0);
    connectionLost();
  }
}

void Session::scheduleReconnect() {
  reconnectAtMs_ = now_ + cfg_.reconnect.delayMs(reconnectAttempt_, random_);
  if (reconnectAttempt_ < 32) ++reconnectAttempt_;
}

void Session::connectionLost() {
  // Fail over: the next attempt goes to the next gateway, after a full-jitter pause that grows with
  // every failure in a row (a fleet that lost one gateway does not arrive at another all at once).
  state_ = SessionState::Disconnected;
  if (cfg_.gatewayCount > 1) gateway_ = static_cast<uint8_t>((gateway_ + 1) % cfg_.gatewayCount);
  scheduleReconnect();
}

void Session::onConnected() {
  if (state_ != SessionState::Connecting) return;
  char t[kTopicBytes];
  topic(t, "res");
  const Status a = mqtt_.subscribe(t, kQosRequests);
  topic(t, "warm");
  const Status b = mqtt_.subscribe(t, kQosRequests);
  if (a != Status::Ok || b != Status::Ok) {
    onDisconnected();
    return;
  }
  Message& m = compose(MessageType::Hello);
  m.hello.fw = {cfg_.firmwareVersion, std::strlen(cfg_.firmwareVersion)};
  m.hello.flashBudget = cfg_.flashBudget;
  flash_.list(m.hello.clips);
  m.hello.warmSeq = flash_.warmSeq();
  state_ = SessionState::HelloSent;
  if (sendRequest(m) != Status::Ok) onDisconnected();
}

void Session::onDisconnected() {
  if (state_ == SessionState::Disconnected) return;
  // Refused or dropped before the welcome: worth a line in the log (bad secret, gateway down).
  if (state_ == SessionState::Connecting) listener_.onError("connect", Status::IoError, 0);
  // A fleet whose gateway died spreads its reconnects over a few seconds, not the base pause.
  if (state_ == SessionState::Ready && reconnectAttempt_ < kLostReadyAttempt) reconnectAttempt_ = kLostReadyAttempt;
  if (PendingRequest* hello = requests_.find(helloId_)) requests_.close(*hello);
  mqtt_.disconnect();
  connectionLost();
}

// ---- requests ----

Status Session::sendRequest(Message& m) {
  const uint32_t id = requests_.nextId();
  switch (m.type) {
    case MessageType::Hello: m.hello.id = helloId_ = id; break;
    case MessageType::Utterance: m.utterance.id = id; break;
    case MessageType::ClipGet: m.clipGet.id = id; break;
    default: return Status::Invalid;
  }
  PendingRequest* r = requests_.open(id, static_cast<uint8_t>(m.type));
  if (r == nullptr) return Status::Busy;
  size_t size = 0;
  const Status s = protocol::encode(m, r->payload.data(), r->payload.size(), size);
  if (s != Status::Ok) {
    requests_.close(*r);
    return s;
  }
  r->size = static_cast<uint16_t>(size);
  resend(*r);
  return Status::Ok;
}

void Session::resend(PendingRequest& r) {
  // While disconnected the attempt still counts: the request times out and backs off like a lost one.
  if (state_ == SessionState::HelloSent || state_ == SessionState::Ready) {
    char t[kTopicBytes];
    topic(t, "req");
    mqtt_.publish(t, r.payload.data(), r.size, kQosRequests);
  }
  requests_.sent(r, now_);
}

void Session::expired(const PendingRequest& r) {
  listener_.onError(requestName(r.type), Status::Timeout, 0);
  if (r.id == helloId_ && state_ == SessionState::HelloSent) {
    // No welcome: start over with a fresh connection (to the next gateway).
    mqtt_.disconnect();
    connectionLost();
  }
}

Status Session::say(const char* text, size_t size) {
  if (state_ != SessionState::Ready) return Status::Busy;
  Message& m = compose(MessageType::Utterance);
  m.utterance.audio = {reinterpret_cast<const uint8_t*>(text), size};
  m.utterance.format = static_cast<uint8_t>(protocol::UtteranceFormat::Text);
  return sendRequest(m);
}

Status Session::play(const ClipId& clip) {
  if (playHeld(clip)) return Status::Ok;
  if (state_ != SessionState::Ready) return Status::Busy;  // not in flash and no gateway
  Message& m = compose(MessageType::ClipGet);
  m.clipGet.clipId = clip;
  m.clipGet.hasMaxInline = cfg_.maxInlineBytes != 0;
  m.clipGet.maxInline = cfg_.maxInlineBytes;
  return sendRequest(m);
}

// ---- incoming ----

void Session::onMessage(const char* t, const uint8_t* payload, size_t size) {
  if (isTopic(t, "res")) handleResponse(payload, size);
  else if (isTopic(t, "warm")) handleWarm(payload, size);
}

void Session::handleResponse(const uint8_t* payload, size_t size) {
  uint32_t id = 0;
  const Status s = protocol::decode(payload, size, message_, &id);
  if (s != Status::Ok) {
    // Leave the request to time out and retry: the gateway answers retries from its cache.
    listener_.onError("response", s, static_cast<uint8_t>(protocol::errorCodeFor(s)));
    return;
  }
  // Responses only (a bit per type code): welcome, answer, clip, error.
  constexpr uint32_t kResponses = 1u << static_cast<int>(MessageType::Welcome) | 1u << static_cast<int>(MessageType::Answer) |
                                  1u << static_cast<int>(MessageType::Clip) | 1u << static_cast<int>(MessageType::Error);
  if (((kResponses >> static_cast<uint8_t>(message_.type)) & 1u) == 0) {
    listener_.onError("response", Status::Unsupported, static_cast<uint8_t>(protocol::ErrorCode::UnknownType));
    return;  // not a response: it must not complete (or cancel) a request
  }
  PendingRequest* r = requests_.find(id);  // decode() read it (key 1) while finding the type
  if (r == nullptr) return;  // late answer to a request we gave up on, or a duplicate (QoS 1)
  const auto type = static_cast<MessageType>(r->type);
  const bool playAfter = type == MessageType::ClipGet;
  requests_.close(*r);

  switch (message_.type) {
    case MessageType::Welcome:
      if (type != MessageType::Hello || state_ != SessionState::HelloSent) break;
      state_ = SessionState::Ready;
      reconnectAttempt_ = 0;
      nextStatsMs_ = now_ + cfg_.statsIntervalMs;
      // Requests that were in flight when the last connection died go out again now, with the same
      // correlation id: whichever answer arrives first completes them, later ones find nothing.
      requests_.resendAll([this](PendingRequest& pending) { resend(pending); });
      listener_.onReady();
      return;
    case MessageType::Answer:
      if (type != MessageType::Utterance) break;
      listener_.onAnswer(message_.answer);
      if (!playHeld(message_.answer.clip.id)) playClip(message_.answer.clip);
      return;
    case MessageType::Clip:
      if (!playAfter) break;
      playClip(message_.clip.clip);
      return;
    case MessageType::Error:
      listener_.onError(requestName(static_cast<uint8_t>(type)),
                        message_.error.code == static_cast<uint8_t>(protocol::ErrorCode::NotFound) ? Status::NotFound
                                                                                                 : Status::IoError,
                        message_.error.code);
      return;
    default:
      break;
  }
  listener_.onError("response", Status::Invalid, static_cast<uint8_t>(protocol::ErrorCode::Invalid));
}

// ---- play path ----

void Session::playClip(const ClipRef& c) {
  if (c.hasInline && c.inlineBytes.size == c.size) {
    playInline(c);
    return;
  }
  // On-demand admission decides whether it goes to flash; if not, it streams to the speaker.
  if (playDownload_.active && playDownload_.toFlash) flash_.pause();  // the child asked for another clip
  playDownload_.active = false;
  yieldFlashWrite();
  if (startDownload(playDownload_, c, true, true, true) != Status::Ok) {
    const Status s = startDownload(playDownload_, c, false, true, true);
    if (s != Status::Ok) listener_.onError("download", s, 0);
  }
}

void Session::playInline(const ClipRef& c) {
  const ClipHeader h = headerOf(c);
  uint32_t resumeAt = 0;
  yieldFlashWrite();
  if (flash_.begin(h, true, resumeAt) == Status::Ok) {
    // Admitted: write what an earlier attempt has not, and let commit verify.
    Status s = resumeAt <= c.inlineBytes.size ? flash_.write(c.inlineBytes.data + resumeAt, c.inlineBytes.size - resumeAt)
                                              : Status::Corrupt;
    if (s == Status::Ok) s = flash_.commit();
    if (s != Status::Ok) {
      listener_.onError("inline", s, 0);
      return;
    }
  } else {
    Sha256 sha;
    sha.update(c.inlineBytes.data, c.inlineBytes.size);
    if (sha.finish() != c.sha256) {
      listener_.onError("inline", Status::Corrupt, 0);
      return;
    }
  }
  listener_.onAudio(c.inlineBytes.data, c.inlineBytes.size);
  listener_.onPlay(c.id, PlaySource::Inline, c.size);
}

bool Session::playHeld(const ClipId& clip) {
  if (flash_.contains(clip) && playFromFlash(clip, PlaySource::Flash) == Status::Ok) {
    ++flashHits_;
    flash_.recordHit(clip);
    return true;
  }
  // Not held, or held but failing its check (the store dropped it): the network serves it.
  ++flashMisses_;
  return false;
}

Status Session::playFromFlash(const ClipId& clip, PlaySource from) {
  uint32_t offset = 0;
  for (;;) {
    size_t n = 0;
    const Status s = flash_.read(clip, offset, cfg_.chunkBuffer, cfg_.chunkCapacity, n);
    if (s != Status::Ok) {
      listener_.onError("flash", s, 0);  // Corrupt: verified before the first byte, never played
      return s;
    }
    if (n == 0) break;
    listener_.onAudio(cfg_.chunkBuffer, n);
    offset += static_cast<uint32_t>(n);
  }
  listener_.onPlay(clip, from, offset);
  return Status::Ok;
}

// ---- downloads ----

Status Session::startDownload(Download& d, const ClipRef& c, bool toFlash, bool onDemand, bool forPlay) {
  if (c.url.size > sizeof playUrl_) return Status::TooLarge;
  d.clip = headerOf(c);
  uint32_t resumeAt = 0;
  if (toFlash) {
    const Status s = flash_.begin(d.clip, onDemand, resumeAt);
    if (s != Status::Ok) return s;
  }
  if (&d == &playDownload_) {
    std::memcpy(playUrl_, c.url.data, c.url.size);
    d.url = {playUrl_, c.url.size};
  } else {
    d.url = c.url;  // the warm manifest stays in its buffer while it is applied
  }
  d.toFlash = toFlash;
  d.forPlay = forPlay;
  d.offset = resumeAt;  // a download cut by a power loss resumes at its last committed chunk
  d.failures = 0;
  d.retryAtMs = now_;
  d.serial = ++serials_;
  if (!toFlash) streamSha_.reset();
  d.reopen = false;
  d.active = true;
  return Status::Ok;
}

void Session::yieldFlashWrite() {
  if (!warmDownload_.active || !warmDownload_.toFlash || warmDownload_.reopen) return;
  flash_.pause();
  warmDownload_.reopen = true;
}

void Session::stepDownload(Download& d) {
  if (d.reopen) {
    uint32_t resumeAt = 0;
    const Status s = flash_.begin(d.clip, false, resumeAt);
    if (s != Status::Ok) {
      d.toFlash = false;  // nothing of ours is open in the store any more
      finishDownload(d, s);
      return;
    }
    d.reopen = false;
    d.offset = resumeAt;
  }
  if (d.offset >= d.clip.size) {
    onChunk(d, Status::Ok, nullptr, 0);  // every byte is there already (a resume after the last chunk)
    return;
  }
  const uint32_t left = d.clip.size - d.offset;
  const Status s = http_.startRange(d.url, d.offset, left < cfg_.chunkCapacity ? left : cfg_.chunkCapacity);
  if (s != Status::Ok) {
    onChunk(d, Status::IoError, nullptr, 0);
    return;
  }
  rangeFor_ = &d;
  rangeSerial_ = d.serial;
  pollRange();  // a port that answers at once (a test fake) completes within this tick
}

bool Session::pollRange() {
  if (rangeFor_ == nullptr) return false;
  const uint8_t* data = nullptr;
  size_t got = 0;
  const Status s = http_.pollRange(data, got);
  if (s == Status::Busy) return true;
  Download& d = *rangeFor_;
  rangeFor_ = nullptr;
  // A range for a download given up meanwhile (another play, a newer manifest) is dropped.
  if (d.active && d.serial == rangeSerial_) onChunk(d, s, data, got);
  return false;
}

void Session::onChunk(Download& d, Status s, const uint8_t* data, size_t got) {
  // The flash write was paused for a play while this range was in flight: begin() again, then re-fetch.
  if (d.reopen) return;
  if (d.offset < d.clip.size) {
    if (s == Status::Ok && got == 0) s = Status::IoError;  // the server ended early
    if (s == Status::NotFound) {
      finishDownload(d, s);  // missing or expired URL: retrying will not help
      return;
    }
    if (s != Status::Ok) {
      if (++d.failures >= cfg_.downloadAttempts) {
        finishDownload(d, s);
        return;
      }
      d.retryAtMs = now_ + cfg_.requests.backoff.delayMs(d.failures - 1u, random_);
      return;
    }
    if (got > d.clip.size - d.offset) got = d.clip.size - d.offset;
    d.failures = 0;
    if (d.toFlash) {
      s = flash_.write(data, got);
      if (s != Status::Ok) {
        finishDownload(d, s);
        return;
      }
    } else {
      streamSha_.update(data, got);
      listener_.onAudio(data, got);
    }
    d.offset += static_cast<uint32_t>(got);
    if (d.offset < d.clip.size) return;
  }
  if (d.toFlash) finishDownload(d, flash_.commit());
  else finishDownload(d, streamSha_.finish() == d.clip.sha256 ? Status::Ok : Status::Corrupt);
}

void Session::finishDownload(Download& d, Status result) {
  d.active = false;
  if (result != Status::Ok && d.toFlash) flash_.pause();
  if (result != Status::Ok) listener_.onError("download", result, 0);
  if (&d == &warmDownload_) {
    (result == Status::Ok ? warm_.ack.stored : warm_.ack.failed).push(d.clip.id);
    return;
  }
  if (result != Status::Ok) return;
  if (d.toFlash) playFromFlash(d.clip.id, PlaySource::Download);
  else listener_.onPlay(d.clip.id, PlaySource::Download, d.clip.size);
}

// ---- warm manifests ----

void Session::handleWarm(const uint8_t* payload, size_t size) {
  Status s = protocol::decode(payload, size, message_);
  if (s == Status::Ok && message_.type != MessageType::Warm) s = Status::Unsupported;  // only manifests here
  if (s != Status::Ok) {
    listener_.onError("warm", s, static_cast<uint8_t>(protocol::errorCodeFor(s)));
    return;
  }
  const uint32_t seq = message_.warm.seq;
  // Idempotent by sequence: QoS 1 may deliver a manifest twice, and a reconnect re-pushes it.
  if (seq <= flash_.warmSeq() || (warm_.active && seq <= warm_.seq)) return;
  if (size > cfg_.manifestCapacity) {
    listener_.onError("warm", Status::TooLarge, static_cast<uint8_t>(protocol::ErrorCode::TooLarge));
    return;
  }
  // Only a newer manifest replaces the buffer the one in progress is applied from.
  std::memcpy(cfg_.manifestBuffer, payload, size);
  s = protocol::decode(cfg_.manifestBuffer, size, message_);  // now viewing our own copy
  if (s != Status::Ok) return;
  if (warmDownload_.active) {
    // A newer manifest supersedes the one in progress; its partial clip stays resumable.
    if (warmDownload_.toFlash && !warmDownload_.reopen) flash_.pause();
    warmDownload_.active = false;
  }

  // Pins follow the newest manifest: listed-and-pinned clips are pinned, all others unpinned.
  protocol::ClipIdList held;
  flash_.list(held);
  for (uint16_t i = 0; i < held.count; ++i) {
    bool pinned = false;
    protocol::ClipCursor cursor(message_.warm.clips);
    ClipRef c;
    while (cursor.next(c) == Status::Ok) {
      if (c.id == held.ids[i]) pinned = c.hasPinned && c.pinned;
    }
    flash_.setPinned(held.ids[i], pinned);
  }

  warm_ = WarmJob{};
  warm_.active = true;
  warm_.seq = seq;
  warm_.clips = message_.warm.clips;
  warm_.cursor = protocol::ClipCursor(warm_.clips);
  warm_.ack.seq = seq;
}

void Session::advanceWarm() {
  // Clips already in flash cost nothing: go through them until one needs a download.
  while (warm_.next < warm_.clips.count && warm_.next < protocol::kMaxListedIds) {
    ClipRef c;
    if (warm_.cursor.next(c) != Status::Ok) break;
    ++warm_.next;
    if (flash_.contains(c.id)) {
      warm_.ack.stored.push(c.id);
      continue;
    }
    const Status s = startDownload(warmDownload_, c, true, false, false);
    if (s == Status::Ok) return;
    listener_.onError("warm", s, 0);
    warm_.ack.failed.push(c.id);
  }
  finishWarm();
}

void Session::finishWarm() {
  warm_.active = false;
  warm_.ack.bytesUsed = flash_.info().bytesUsed;
  const Status s = flash_.setWarmSeq(warm_.seq);
  if (s != Status::Ok) listener_.onError("warm", s, 0);
  if (state_ == SessionState::Ready || state_ == SessionState::HelloSent) {
    Message& m = compose(MessageType::WarmAck);
    m.warmAck = warm_.ack;
    size_t size = 0;
    char t[kTopicBytes];
    topic(t, "evt");
    // Encoded into the chunk buffer (free between flash reads): 600 bytes the stack need not hold.
    if (protocol::encode(m, cfg_.chunkBuffer, cfg_.chunkCapacity, size) == Status::Ok)
      mqtt_.publish(t, cfg_.chunkBuffer, size, kQosRequests);
  }
  listener_.onWarmApplied(warm_.ack);
}

// ---- stats ----

protocol::Stats Session::stats() {
  const FlashInfo f = flash_.info();
  protocol::Stats s;
  s.flashHits = flashHits_;
  s.flashMisses = flashMisses_;
  s.bytesUsed = f.bytesUsed;
  s.clipCount = f.clipCount;
  s.evictions = f.evictions;
  s.maxEraseCount = f.maxEraseCount;
  s.uptime = (now_ - bootMs_) / 1000;
  return s;
}

Status Session::publishStats() {
  if (state_ != SessionState::Ready) return Status::Busy;
  Message& m = compose(MessageType::Stats);
  m.stats = stats();
  uint8_t buf[64];
  size_t size = 0;
  const Status s = protocol::encode(m, buf, sizeof buf, size);
  if (s != Status::Ok) return s;
  char t[kTopicBytes];
  topic(t, "evt");
  return mqtt_.publish(t, buf, size, kQosStats);
}

// ---- topics ----

void Session::topic(char* out, const char* suffix) const {
  std::snprintf(out, kTopicBytes, "teddy/v1/%s/%s", cfg_.deviceId, suffix);
}

bool Session::isTopic(const char* t, const char* suffix) const {
  char expected[kTopicBytes];
  topic(expected, suffix);
  return std::strcmp(t, expected) == 0;
}

}  // namespace teddy
