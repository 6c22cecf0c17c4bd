// libFuzzer target: a hostile gateway. The input is a stream of frames, each
// delivered to the session as a message on its res or warm topic (or as a
// tick of time passing); the session must never crash, overrun or hang, and
// must keep serving: after the stream a flash play still works.
#include <cstdint>
#include <cstdlib>

#include "session_fakes.h"

using namespace teddy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fakes::Mqtt mqtt;
  fakes::Http http;
  fakes::Flash flash;
  fakes::Random random;
  fakes::Listener listener;
  static uint8_t manifest[8192];
  static uint8_t chunk[1024];
  SessionConfig cfg;
  cfg.deviceId = "fuzz";
  static const char* gateways[] = {"mqtt://fuzz-gateway:1883"};
  cfg.gateways = gateways;
  cfg.gatewayCount = 1;
  cfg.manifestBuffer = manifest;
  cfg.manifestCapacity = sizeof manifest;
  cfg.chunkBuffer = chunk;
  cfg.chunkCapacity = sizeof chunk;
  ClipId held{};
  flash.clips[held].bytes = {1, 2, 3};

  Session session(cfg, mqtt, http, flash, random, listener);
  uint32_t now = 0;
  session.tick(now);
  session.onConnected();

  // Frame: kind (1 byte) | length (2 bytes, big endian) | payload.
  size_t pos = 0;
  while (pos + 3 <= size) {
    const uint8_t kind = data[pos];
    const size_t len = (size_t{data[pos + 1]} << 8 | data[pos + 2]);
    pos += 3;
    const size_t n = len < size - pos ? len : size - pos;
    switch (kind % 4) {
      case 0: session.onMessage("teddy/v1/fuzz/res", data + pos, n); break;
      case 1: session.onMessage("teddy/v1/fuzz/warm", data + pos, n); break;
      case 2: now += static_cast<uint32_t>(len) * 10; break;
      default: session.say("hi", 2); break;
    }
    session.tick(now);
    pos += n;
  }
  if (session.play(held) != Status::Ok) std::abort();
  return 0;
}
