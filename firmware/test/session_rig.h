// A session wired to in-memory ports, with helpers to play the gateway's part
// (welcome, answers, warm manifests encoded as the gateway encodes them).
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "session_fakes.h"

namespace rig {

using namespace teddy;
using protocol::Message;
using protocol::MessageType;

inline const char* kDevice = "bear-1";

inline ClipId clipId(uint8_t b) {
  ClipId id;
  id.fill(b);
  return id;
}

inline std::vector<uint8_t> audio(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

struct Rig {
  fakes::Mqtt mqtt;
  fakes::Http http;
  fakes::Flash flash;   // the in-memory cache, unless a real one is given
  FlashCache& cache;
  fakes::Random random;
  fakes::Listener listener;
  std::vector<uint8_t> manifest = std::vector<uint8_t>(16384);
  std::vector<uint8_t> chunk = std::vector<uint8_t>(4096);
  std::unique_ptr<Session> session;
  const char* gateways[2] = {"mqtt://gateway-a:1883", "mqtts://gateway-b:8883"};
  uint8_t gatewayCount = 1;
  uint32_t now = 1000;

  SessionConfig config() {
    SessionConfig c;
    c.deviceId = kDevice;
    c.gateways = gateways;
    c.gatewayCount = gatewayCount;
    c.firmwareVersion = "test";
    c.flashBudget = flash.budget;
    c.requests = {5000, 3, {500, 4000}};
    c.reconnect = {1000, 30000};
    c.manifestBuffer = manifest.data();
    c.manifestCapacity = manifest.size();
    c.chunkBuffer = chunk.data();
    c.chunkCapacity = chunk.size();
    return c;
  }
  Rig() : cache(flash) { boot(); }
  explicit Rig(FlashCache& real) : cache(real) { boot(); }
  /** A fresh Session on the same flash, as after a reboot. */
  void boot() { session = std::make_unique<Session>(config(), mqtt, http, cache, random, listener); }

  void tick(uint32_t ms = 0) {
    now += ms;
    session->tick(now);
  }
  Message lastOn(const char* suffix) {
    const auto sent = mqtt.on(std::string("teddy/v1/") + kDevice + "/" + suffix);
    REQUIRE(!sent.empty());
    static std::vector<uint8_t> keep;  // the decoded message borrows from it
    keep = sent.back().payload;
    Message m;
    REQUIRE(protocol::decode(keep.data(), keep.size(), m) == Status::Ok);
    return m;
  }
  size_t countOn(const char* suffix) { return mqtt.on(std::string("teddy/v1/") + kDevice + "/" + suffix).size(); }
  void deliver(const char* suffix, const Message& m) {
    std::vector<uint8_t> buf(65536);
    size_t n = 0;
    REQUIRE(protocol::encode(m, buf.data(), buf.size(), n) == Status::Ok);
    session->onMessage((std::string("teddy/v1/") + kDevice + "/" + suffix).c_str(), buf.data(), n);
  }
  void welcome(uint32_t id) {
    Message w;
    w.type = MessageType::Welcome;
    w.welcome.id = id;
    w.welcome.time = 1764000000;
    w.welcome.maxRequestBytes = 65536;
    deliver("res", w);
  }
  void ready() {
    tick();
    REQUIRE(session->state() == SessionState::Connecting);
    session->onConnected();
    REQUIRE(session->state() == SessionState::HelloSent);
    welcome(lastOn("req").hello.id);
    REQUIRE(session->state() == SessionState::Ready);
  }
  /** The gateway's answer to request `id`: `reply`, spoken as `clip`. */
  void answer(uint32_t id, const protocol::ClipRef& clip, const char* reply = "") {
    Message m;
    m.type = MessageType::Answer;
    m.answer.id = id;
    m.answer.reply = {reply, std::strlen(reply)};
    m.answer.clip = clip;
    m.answer.source = 1;
    deliver("res", m);
  }
  /** The child says something; the gateway answers with `clip`. */
  void sayAndAnswer(const protocol::ClipRef& clip, const char* reply = "") {
    REQUIRE(session->say("x", 1) == Status::Ok);
    answer(lastOn("req").utterance.id, clip, reply);
  }
  /** A clip the fake HTTP origin serves, described as the gateway would. */
  protocol::ClipRef serve(uint8_t idByte, const std::vector<uint8_t>& bytes, bool pinned) {
    static std::vector<std::string> urls;  // outlive the ClipRef views
    urls.push_back("http://origin/clips/" + std::to_string(idByte));
    http.files[urls.back()] = bytes;
    protocol::ClipRef c;
    c.id = clipId(idByte);
    c.sha256 = fakes::sha256(bytes);
    c.size = static_cast<uint32_t>(bytes.size());
    c.url = {urls.back().data(), urls.back().size()};
    c.expires = 1767225600;
    c.hasPinned = true;
    c.pinned = pinned;
    return c;
  }
  void deliverWarm(uint32_t seq, const std::vector<protocol::ClipRef>& clips) {
    std::vector<uint8_t> items(32768);
    cbor::Writer w(items.data(), items.size());
    uint32_t total = 0;
    for (const auto& c : clips) total += c.size;
    w.map(4);
    w.uint(0), w.uint(7);
    w.uint(2), w.uint(seq);
    w.uint(3), w.array(clips.size());
    for (const auto& c : clips) {
      w.map(6 + c.hasPinned);
      w.uint(0), w.bytes(c.id.data(), 8);
      w.uint(1), w.bytes(c.sha256.data(), 32);
      w.uint(2), w.uint(c.size);
      w.uint(3), w.text(c.url);
      w.uint(4), w.uint(c.expires);
      w.uint(6), w.uint(1);
      if (c.hasPinned) w.uint(8), w.boolean(c.pinned);
    }
    w.uint(4), w.uint(total);
    REQUIRE(w.status() == Status::Ok);
    session->onMessage((std::string("teddy/v1/") + kDevice + "/warm").c_str(), items.data(), w.size());
  }
  void runUntilIdle(int maxTicks = 200) {
    for (int i = 0; i < maxTicks; ++i) tick(10);
  }
};


}  // namespace rig
