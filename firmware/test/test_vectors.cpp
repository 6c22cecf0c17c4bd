// The shared protocol vectors (docs/vectors): every valid .cbor decodes to the
// values in its .json and re-encodes byte for byte; every invalid one is
// rejected with the error code its .json names. The same files drive the
// gateway's TypeScript codec (test/protocol/vectors.test.ts).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "teddy/protocol.h"

using nlohmann::json;
using teddy::Status;
using namespace teddy::protocol;
namespace fs = std::filesystem;

namespace {

const fs::path kVectors = TEDDY_VECTORS_DIR;

std::vector<uint8_t> readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

json readJson(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += digits[p[i] >> 4], s += digits[p[i] & 15];
  return s;
}
template <size_t N>
std::string hex(const std::array<uint8_t, N>& a) { return hex(a.data(), N); }
std::string hex(teddy::cbor::Bytes b) { return hex(b.data, b.size); }
std::string str(teddy::cbor::Text t) { return {t.data, t.size}; }

json ids(const ClipIdList& l) {
  json out = json::array();
  for (uint16_t i = 0; i < l.count; ++i) out.push_back(hex(l.ids[i]));
  return out;
}

json clip(const ClipRef& c) {
  json j = {{"clipId", hex(c.id)}, {"sha256", hex(c.sha256)}, {"size", c.size}, {"url", str(c.url)}, {"expires", c.expires}};
  if (c.hasInline) j["inline"] = hex(c.inlineBytes);
  if (c.hasCodec) j["codec"] = c.codec;
  if (c.hasPriority) j["priority"] = c.priority;
  if (c.hasPinned) j["pinned"] = c.pinned;
  return j;
}

/** The message in the vectors' JSON shape (protocol/json.ts). */
json toJson(const Message& m) {
  switch (m.type) {
    case MessageType::Hello:
      return {{"type", "hello"}, {"id", m.hello.id}, {"fw", str(m.hello.fw)}, {"flashBudget", m.hello.flashBudget},
              {"clips", ids(m.hello.clips)}, {"warmSeq", m.hello.warmSeq}};
    case MessageType::Welcome:
      return {{"type", "welcome"}, {"id", m.welcome.id}, {"time", m.welcome.time}, {"warmSeq", m.welcome.warmSeq},
              {"maxRequestBytes", m.welcome.maxRequestBytes}};
    case MessageType::Utterance: {
      json j = {{"type", "utterance"}, {"id", m.utterance.id}, {"audio", hex(m.utterance.audio)}, {"format", m.utterance.format}};
      if (m.utterance.hasVoice) j["voice"] = str(m.utterance.voice);
      return j;
    }
    case MessageType::Answer:
      return {{"type", "answer"}, {"id", m.answer.id}, {"reply", str(m.answer.reply)}, {"clip", clip(m.answer.clip)},
              {"source", m.answer.source}};
    case MessageType::ClipGet: {
      json j = {{"type", "clipGet"}, {"id", m.clipGet.id}, {"clipId", hex(m.clipGet.clipId)}};
      if (m.clipGet.hasMaxInline) j["maxInline"] = m.clipGet.maxInline;
      return j;
    }
    case MessageType::Clip:
      return {{"type", "clip"}, {"id", m.clip.id}, {"clip", clip(m.clip.clip)}};
    case MessageType::Warm: {
      json clips = json::array();
      ClipCursor cursor(m.warm.clips);
      ClipRef c;
      while (cursor.next(c) == Status::Ok) clips.push_back(clip(c));
      return {{"type", "warm"}, {"seq", m.warm.seq}, {"totalBytes", m.warm.totalBytes}, {"clips", clips}};
    }
    case MessageType::WarmAck:
      return {{"type", "warmAck"}, {"seq", m.warmAck.seq}, {"stored", ids(m.warmAck.stored)}, {"failed", ids(m.warmAck.failed)},
              {"bytesUsed", m.warmAck.bytesUsed}};
    case MessageType::Stats:
      return {{"type", "stats"}, {"flashHits", m.stats.flashHits}, {"flashMisses", m.stats.flashMisses},
              {"bytesUsed", m.stats.bytesUsed}, {"clipCount", m.stats.clipCount}, {"evictions", m.stats.evictions},
              {"maxEraseCount", m.stats.maxEraseCount}, {"uptime", m.stats.uptime}};
    case MessageType::Error:
      return {{"type", "error"}, {"id", m.error.id}, {"code", m.error.code}, {"message", str(m.error.message)}};
  }
  return nullptr;
}

std::vector<fs::path> cborFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".cbor") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("every valid vector decodes to its JSON and re-encodes byte for byte") {
  const auto files = cborFiles(kVectors);
  REQUIRE(files.size() >= 12);
  for (const auto& path : files) {
    CAPTURE(path.filename().string());
    const auto bytes = readFile(path);
    const json expected = readJson(fs::path(path).replace_extension(".json"));
    Message m;
    REQUIRE(decode(bytes.data(), bytes.size(), m) == Status::Ok);
    CHECK(toJson(m) == expected);

    std::vector<uint8_t> out(bytes.size() + 16);
    size_t written = 0;
    REQUIRE(encode(m, out.data(), out.size(), written) == Status::Ok);
    out.resize(written);
    CHECK(out == bytes);
  }
}

TEST_CASE("every invalid vector is rejected with its error code") {
  const auto files = cborFiles(kVectors / "invalid");
  REQUIRE(files.size() >= 9);
  for (const auto& path : files) {
    CAPTURE(path.filename().string());
    const auto bytes = readFile(path);
    const json expected = readJson(fs::path(path).replace_extension(".json"));
    Message m;
    const Status s = decode(bytes.data(), bytes.size(), m);
    CHECK(s != Status::Ok);
    CHECK(static_cast<int>(errorCodeFor(s)) == expected["error"].get<int>());
  }
}

TEST_CASE("a vector cut anywhere is Malformed, and the request id survives when readable") {
  for (const auto& path : cborFiles(kVectors)) {
    const auto bytes = readFile(path);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      CAPTURE(path.filename().string());
      CAPTURE(cut);
      Message m;
      CHECK(decode(bytes.data(), cut, m) == Status::Malformed);
    }
  }
  const auto wrong = readFile(kVectors / "invalid" / "wrong-type.cbor");
  Message m;
  uint32_t id = 12345;
  CHECK(decode(wrong.data(), wrong.size(), m, &id) == Status::Invalid);
  CHECK(id != 12345);
}

TEST_CASE("unknown keys are ignored, in any position and of any key type") {
  // welcome {0:2, 1:7, 2:100, 3:4, 4:65536} with extra keys 9:[1,2], "x":{}, and 200:h'00'.
  const uint8_t bytes[] = {0xa8, 0x61, 0x78, 0xa0, 0x00, 0x02, 0x01, 0x07, 0x02, 0x18, 0x64, 0x03, 0x04,
                           0x04, 0x1a, 0x00, 0x01, 0x00, 0x00, 0x09, 0x82, 0x01, 0x02, 0x18, 0xc8, 0x41, 0x00};
  Message m;
  REQUIRE(decode(bytes, sizeof bytes, m) == Status::Ok);
  CHECK(m.type == MessageType::Welcome);
  CHECK(m.welcome.id == 7);
  CHECK(m.welcome.time == 100);
  CHECK(m.welcome.warmSeq == 4);
  CHECK(m.welcome.maxRequestBytes == 65536);
}

TEST_CASE("bounds: a too-long firmware version is Invalid, more ids than the device keeps is TooLarge") {
  Message m;
  m.type = MessageType::Hello;
  m.hello.id = 1;
  const std::string fw(33, 'v');
  m.hello.fw = {fw.data(), fw.size()};
  uint8_t buf[1024];
  size_t n = 0;
  REQUIRE(encode(m, buf, sizeof buf, n) == Status::Ok);
  Message back;
  CHECK(decode(buf, n, back) == Status::Invalid);

  // A warmAck listing kMaxListedIds + 1 ids: legal on the wire, beyond this device's RAM cap.
  std::vector<uint8_t> big = {0xa5, 0x00, 0x08, 0x02, 0x01, 0x03, 0x98, static_cast<uint8_t>(kMaxListedIds + 1)};
  for (size_t i = 0; i <= kMaxListedIds; ++i) {
    big.push_back(0x48);
    big.insert(big.end(), 8, static_cast<uint8_t>(i));
  }
  big.insert(big.end(), {0x04, 0x80, 0x05, 0x00});
  CHECK(decode(big.data(), big.size(), back) == Status::TooLarge);
}

TEST_CASE("encode reports TooLarge for a short buffer") {
  const auto bytes = readFile(kVectors / "warm.cbor");
  Message m;
  REQUIRE(decode(bytes.data(), bytes.size(), m) == Status::Ok);
  std::vector<uint8_t> out(bytes.size() - 1);
  size_t n = 0;
  CHECK(encode(m, out.data(), out.size(), n) == Status::TooLarge);
}
