// In-memory stand-ins for the session's ports, for pure-logic unit tests of
// the state machine (the end-to-end test drives the real gateway instead).
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "teddy/session.h"
#include "teddy/sha256.h"

namespace fakes {

using teddy::ClipId;
using teddy::Digest;
using teddy::Status;

inline Digest sha256(const std::vector<uint8_t>& bytes) {
  teddy::Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.finish();
}

struct Published {
  std::string topic;
  std::vector<uint8_t> payload;
  uint8_t qos;
};

struct Mqtt final : teddy::MqttTransport {
  int connects = 0;
  int disconnects = 0;
  Status connectResult = Status::Ok;
  std::vector<std::string> urls;  // every connect's gateway URL
  std::vector<std::string> subscriptions;
  std::vector<Published> published;

  Status connect(const char* url) override {
    ++connects;
    urls.emplace_back(url);
    return connectResult;
  }
  void disconnect() override { ++disconnects; }
  Status subscribe(const char* topic, uint8_t) override { subscriptions.emplace_back(topic); return Status::Ok; }
  Status publish(const char* topic, const uint8_t* p, size_t n, uint8_t qos) override {
    published.push_back({topic, std::vector<uint8_t>(p, p + n), qos});
    return Status::Ok;
  }
  std::vector<Published> on(const std::string& topic) const {
    std::vector<Published> out;
    for (const auto& p : published)
      if (p.topic == topic) out.push_back(p);
    return out;
  }
};

/** Answers each range at its first poll (or leaves it in flight while `holding`). */
struct Http final : teddy::HttpClient {
  std::map<std::string, std::vector<uint8_t>> files;
  std::vector<uint32_t> offsets;  // every range start asked for
  int failuresLeft = 0;           // the next N ranges fail with IoError
  bool holding = false;           // ranges stay in flight (Busy) until released
  bool inFlight = false;
  std::string url;
  uint32_t offset = 0;
  size_t length = 0;
  std::vector<uint8_t> body;

  Status startRange(teddy::cbor::Text u, uint32_t off, size_t len) override {
    if (inFlight) return Status::Busy;
    offsets.push_back(off);
    inFlight = true;
    url.assign(u.data, u.size);
    offset = off;
    length = len;
    return Status::Ok;
  }
  Status pollRange(const uint8_t*& data, size_t& got) override {
    got = 0;
    if (!inFlight) return Status::Invalid;
    if (holding) return Status::Busy;
    inFlight = false;
    if (failuresLeft > 0) {
      --failuresLeft;
      return Status::IoError;
    }
    const auto it = files.find(url);
    if (it == files.end()) return Status::NotFound;
    const auto& f = it->second;
    if (offset >= f.size()) return Status::Ok;
    got = std::min(length, f.size() - offset);
    body.assign(f.begin() + offset, f.begin() + offset + static_cast<long>(got));
    data = body.data();
    return Status::Ok;
  }
};

/** A flash cache that keeps committed clips and resumable partial writes in RAM. */
struct Flash final : teddy::FlashCache {
  struct Clip {
    teddy::ClipHeader header;
    std::vector<uint8_t> bytes;
    bool pinned = false;
    uint32_t hits = 0;
  };
  uint32_t budget = 1 << 20;
  std::map<ClipId, Clip> clips;
  std::map<ClipId, Clip> partial;  // survives a "reboot" (a new Session on the same Flash)
  ClipId writing{};
  bool isWriting = false;
  uint32_t seq = 0;

  std::vector<ClipId> rotten;  // fail their check on the next read, and are dropped (as the store does)

  bool contains(const ClipId& id) override { return clips.count(id) != 0; }
  Status read(const ClipId& id, uint32_t offset, uint8_t* buf, size_t cap, size_t& n) override {
    n = 0;
    if (std::find(rotten.begin(), rotten.end(), id) != rotten.end()) {
      clips.erase(id);
      return Status::Corrupt;
    }
    const auto it = clips.find(id);
    if (it == clips.end()) return Status::NotFound;
    const auto& b = it->second.bytes;
    n = offset >= b.size() ? 0 : std::min(cap, b.size() - offset);
    std::copy(b.begin() + offset, b.begin() + offset + static_cast<long>(n), buf);
    return Status::Ok;
  }
  void recordHit(const ClipId& id) override { ++clips[id].hits; }
  Status begin(const teddy::ClipHeader& h, bool onDemand, uint32_t& resumeAt) override {
    if (onDemand && h.size > budget / 8) return Status::TooLarge;
    auto& p = partial[h.id];
    if (p.header.sha256 != h.sha256) p = Clip{h, {}, h.pinned, 0};
    resumeAt = static_cast<uint32_t>(p.bytes.size());
    writing = h.id;
    isWriting = true;
    return Status::Ok;
  }
  Status write(const uint8_t* d, size_t n) override {
    if (!isWriting) return Status::Invalid;
    auto& b = partial[writing].bytes;
    b.insert(b.end(), d, d + n);
    return Status::Ok;
  }
  Status commit() override {
    if (!isWriting) return Status::Invalid;
    isWriting = false;
    Clip c = partial[writing];
    partial.erase(writing);
    if (c.bytes.size() != c.header.size || sha256(c.bytes) != c.header.sha256) return Status::Corrupt;
    clips[writing] = c;
    return Status::Ok;
  }
  void pause() override { isWriting = false; }
  Status setPinned(const ClipId& id, bool pinned) override {
    if (!contains(id)) return Status::NotFound;
    clips[id].pinned = pinned;
    return Status::Ok;
  }
  void list(teddy::protocol::ClipIdList& out) override {
    out.count = 0;
    for (const auto& kv : clips) out.push(kv.first);
  }
  teddy::FlashInfo info() override {
    teddy::FlashInfo i;
    for (const auto& kv : clips) i.bytesUsed += static_cast<uint32_t>(kv.second.bytes.size());
    i.clipCount = static_cast<uint32_t>(clips.size());
    return i;
  }
  uint32_t warmSeq() override { return seq; }
  Status setWarmSeq(uint32_t s) override { seq = s; return Status::Ok; }
};

/** Returns the queued values in turn, then `fallback`. */
struct Random final : teddy::Random {
  std::vector<uint32_t> queue;
  uint32_t fallback = 0;
  uint32_t next() override {
    if (queue.empty()) return fallback;
    const uint32_t v = queue.front();
    queue.erase(queue.begin());
    return v;
  }
};

struct Listener final : teddy::SessionListener {
  int ready = 0;
  std::vector<teddy::protocol::WarmAck> warms;
  std::vector<std::string> replies;
  struct Play {
    ClipId clip;
    teddy::PlaySource from;
    uint32_t bytes;
  };
  std::vector<Play> plays;
  std::vector<std::string> errors;
  size_t audioBytes = 0;

  void onReady() override { ++ready; }
  void onWarmApplied(const teddy::protocol::WarmAck& ack) override { warms.push_back(ack); }
  void onAnswer(const teddy::protocol::Answer& a) override { replies.emplace_back(a.reply.data, a.reply.size); }
  void onPlay(const ClipId& c, teddy::PlaySource from, uint32_t bytes) override { plays.push_back({c, from, bytes}); }
  void onError(const char* what, Status, uint8_t) override { errors.emplace_back(what); }
  void onAudio(const uint8_t*, size_t n) override { audioBytes += n; }
};

}  // namespace fakes
