// A clip store on a file-backed flash emulator, and deterministic clips.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "file_flash.h"
#include "teddy/clip_store.h"
#include "teddy/sha256.h"

namespace fixture {

using teddy::ClipStore;
using teddy::Status;
using teddy::host::FileFlash;

constexpr uint32_t kBlock = 4096;
/** A small flash, so that a few clips already need eviction: 10 data blocks behind the index. */
constexpr uint32_t kBudgetBlocks = 10;
constexpr uint32_t kDeviceBlocks = teddy::kIndexBlocks + kBudgetBlocks;

struct TestClip {
  teddy::ClipHeader header;
  std::vector<uint8_t> bytes;
};

inline TestClip makeClip(uint8_t tag, uint32_t size, bool pinned = false) {
  TestClip c;
  c.bytes.resize(size);
  uint32_t x = 2166136261u ^ tag;
  for (auto& b : c.bytes) {
    x = x * 16777619u + 0x9e3779b9u;
    b = static_cast<uint8_t>(x >> 24);
  }
  c.header.id.fill(tag);
  teddy::Sha256 sha;
  sha.update(c.bytes.data(), c.bytes.size());
  c.header.sha256 = sha.finish();
  c.header.size = size;
  c.header.pinned = pinned;
  return c;
}

inline std::string tempPath(const char* name) {
  std::string path = std::string("/tmp/teddy-test-") + name + "-" + std::to_string(::getpid()) + ".flash";
  std::remove(path.c_str());
  return path;
}

/** Writes the whole clip in `chunk`-byte pieces and commits it. */
inline teddy::Status store(teddy::ClipStore& s, const TestClip& c, bool onDemand = false, size_t chunk = 1000) {
  uint32_t resumeAt = 0;
  teddy::Status st = s.begin(c.header, onDemand, resumeAt);
  if (st != teddy::Status::Ok) return st;
  for (size_t at = resumeAt; at < c.bytes.size(); at += chunk) {
    const size_t n = std::min(chunk, c.bytes.size() - at);
    st = s.write(c.bytes.data() + at, n);
    if (st != teddy::Status::Ok) return st;
  }
  return s.commit();
}

/** Reads a whole clip; Ok only if every byte came back. */
inline teddy::Status readAll(teddy::ClipStore& s, const teddy::ClipId& id, std::vector<uint8_t>& out) {
  out.clear();
  uint8_t buf[700];
  for (;;) {
    size_t n = 0;
    const teddy::Status st = s.read(id, static_cast<uint32_t>(out.size()), buf, sizeof buf, n);
    if (st != teddy::Status::Ok) return st;
    if (n == 0) return teddy::Status::Ok;
    out.insert(out.end(), buf, buf + n);
  }
}

}  // namespace fixture
