// CBOR codec: RFC 8949 Appendix A vectors for the supported types round-trip,
// and malformed or unsupported input is rejected with the right Status.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "teddy/cbor.h"

using teddy::Status;
using namespace teddy::cbor;

namespace {

// A generic CBOR value, for tests only (the codec itself never builds trees).
struct Value {
  enum Kind { U, N, B, T, A, M, False, True, Null } kind;
  uint64_t num = 0;                // U: value, N: n for -1-n
  std::string str;                 // B and T
  std::vector<Value> items;        // A: items, M: key, value, key, value...
  bool operator==(const Value& o) const {
    return kind == o.kind && num == o.num && str == o.str && items == o.items;
  }
};

Value U(uint64_t v) { return {Value::U, v, {}, {}}; }
Value N(uint64_t n) { return {Value::N, n, {}, {}}; }
Value B(std::string s) { return {Value::B, 0, std::move(s), {}}; }
Value T(std::string s) { return {Value::T, 0, std::move(s), {}}; }
Value A(std::vector<Value> v) { return {Value::A, 0, {}, std::move(v)}; }
Value M(std::vector<Value> kv) { return {Value::M, 0, {}, std::move(kv)}; }

void encode(Writer& w, const Value& v) {
  switch (v.kind) {
    case Value::U: w.uint(v.num); break;
    case Value::N: w.negint(v.num); break;
    case Value::B: w.bytes(reinterpret_cast<const uint8_t*>(v.str.data()), v.str.size()); break;
    case Value::T: w.text(v.str.data(), v.str.size()); break;
    case Value::A: w.array(v.items.size()); for (auto& i : v.items) encode(w, i); break;
    case Value::M: w.map(v.items.size() / 2); for (auto& i : v.items) encode(w, i); break;
    case Value::False: w.boolean(false); break;
    case Value::True: w.boolean(true); break;
    case Value::Null: w.null(); break;
  }
}

Status decode(Reader& r, Value& out) {
  Major major;
  Status s = r.peek(major);
  if (s != Status::Ok) return s;
  uint64_t n = 0;
  switch (major) {
    case Major::Uint: out = U(0); return r.uint(out.num);
    case Major::Negint: out = N(0); return r.negint(out.num);
    case Major::Bytes: {
      Bytes b;
      s = r.bytes(b);
      out = B(std::string(reinterpret_cast<const char*>(b.data), b.size));
      return s;
    }
    case Major::Text: {
      Text t;
      s = r.text(t);
      out = T(std::string(t.data, t.size));
      return s;
    }
    case Major::Array:
    case Major::Map: {
      s = major == Major::Array ? r.array(n) : r.map(n);
      if (s != Status::Ok) return s;
      out = major == Major::Array ? A({}) : M({});
      if (major == Major::Map) n *= 2;
      for (uint64_t i = 0; i < n; ++i) {
        out.items.emplace_back();
        s = decode(r, out.items.back());
        if (s != Status::Ok) return s;
      }
      return Status::Ok;
    }
    default: {
      bool b;
      if (r.boolean(b) == Status::Ok) return out = {b ? Value::True : Value::False, 0, {}, {}}, Status::Ok;
      out = {Value::Null, 0, {}, {}};
      return r.null();
    }
  }
}

std::vector<uint8_t> hex(const char* h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; h[i] != 0 && h[i + 1] != 0; i += 2) out.push_back(static_cast<uint8_t>(std::stoi(std::string(h + i, 2), nullptr, 16)));
  return out;
}

struct Vector {
  const char* hex;
  Value value;
};

std::vector<Vector> appendixA() {
  std::vector<Value> oneTo25;
  for (uint64_t i = 1; i <= 25; ++i) oneTo25.push_back(U(i));
  return {
      {"00", U(0)},
      {"01", U(1)},
      {"0a", U(10)},
      {"17", U(23)},
      {"1818", U(24)},
      {"1819", U(25)},
      {"1864", U(100)},
      {"1903e8", U(1000)},
      {"1a000f4240", U(1000000)},
      {"1b000000e8d4a51000", U(1000000000000)},
      {"1bffffffffffffffff", U(18446744073709551615ull)},
      {"3bffffffffffffffff", N(18446744073709551615ull)},  // -18446744073709551616
      {"20", N(0)},                                          // -1
      {"29", N(9)},                                          // -10
      {"3863", N(99)},                                       // -100
      {"3903e7", N(999)},                                    // -1000
      {"f4", {Value::False, 0, {}, {}}},
      {"f5", {Value::True, 0, {}, {}}},
      {"f6", {Value::Null, 0, {}, {}}},
      {"40", B("")},
      {"4401020304", B("\x01\x02\x03\x04")},
      {"60", T("")},
      {"6161", T("a")},
      {"6449455446", T("IETF")},
      {"62225c", T("\"\\")},
      {"62c3bc", T("\xc3\xbc")},
      {"63e6b0b4", T("\xe6\xb0\xb4")},
      {"64f0908591", T("\xf0\x90\x85\x91")},
      {"80", A({})},
      {"83010203", A({U(1), U(2), U(3)})},
      {"8301820203820405", A({U(1), A({U(2), U(3)}), A({U(4), U(5)})})},
      {"98190102030405060708090a0b0c0d0e0f101112131415161718181819", A(oneTo25)},
      {"a0", M({})},
      {"a201020304", M({U(1), U(2), U(3), U(4)})},
      {"a26161016162820203", M({T("a"), U(1), T("b"), A({U(2), U(3)})})},
      {"826161a161626163", A({T("a"), M({T("b"), T("c")})})},
      {"a56161614161626142616361436164614461656145",
       M({T("a"), T("A"), T("b"), T("B"), T("c"), T("C"), T("d"), T("D"), T("e"), T("E")})},
  };
}

Status decodeAll(const std::vector<uint8_t>& bytes) {
  if (Status s = wellFormed(bytes.data(), bytes.size()); s != Status::Ok) return s;
  Reader r(bytes.data(), bytes.size());
  Value v;
  return decode(r, v);
}

}  // namespace

TEST_CASE("RFC 8949 Appendix A vectors encode to the expected bytes and decode to the value") {
  for (const auto& vec : appendixA()) {
    CAPTURE(vec.hex);
    const auto expected = hex(vec.hex);
    uint8_t buf[64];
    Writer w(buf, sizeof buf);
    encode(w, vec.value);
    REQUIRE(w.status() == Status::Ok);
    CHECK(std::vector<uint8_t>(buf, buf + w.size()) == expected);

    CHECK(wellFormed(expected.data(), expected.size()) == Status::Ok);
    Reader r(expected.data(), expected.size());
    Value got;
    REQUIRE(decode(r, got) == Status::Ok);
    CHECK(r.atEnd());
    CHECK(got == vec.value);
  }
}

TEST_CASE("non-shortest heads are well-formed and decode to the same value") {
  const auto bytes = hex("1b0000000000000001");
  Reader r(bytes.data(), bytes.size());
  uint64_t v = 0;
  REQUIRE(r.uint(v) == Status::Ok);
  CHECK(v == 1);
}

TEST_CASE("truncation at every byte of every vector is Malformed") {
  for (const auto& vec : appendixA()) {
    const auto bytes = hex(vec.hex);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      CAPTURE(vec.hex);
      CAPTURE(cut);
      const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(cut));
      CHECK(wellFormed(prefix.data(), prefix.size()) == Status::Malformed);
      CHECK(decodeAll(prefix) == Status::Malformed);
    }
  }
}

TEST_CASE("trailing bytes after one item are Malformed") {
  for (const char* h : {"0000", "a0ff", "8301020304", "f6f6"}) {
    const auto bytes = hex(h);
    CAPTURE(h);
    CHECK(wellFormed(bytes.data(), bytes.size()) == Status::Malformed);
  }
}

TEST_CASE("indefinite lengths, tags, floats and other simple values are Unsupported") {
  // RFC 8949 Appendix A forms outside the subset.
  for (const char* h : {"5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "bf61610161629f0203ffff",
                        "c249010000000000000000", "c074323031332d30332d32315432303a30343a30305a", "f90000",
                        "fa47c35000", "fb3ff199999999999a", "f7", "f0", "f8ff"}) {
    const auto bytes = hex(h);
    CAPTURE(h);
    CHECK(wellFormed(bytes.data(), bytes.size()) == Status::Unsupported);
  }
}

TEST_CASE("not-well-formed heads are Malformed") {
  // Reserved additional info 28..30, a lone break, break/indefinite on ints and tags,
  // and a two-byte simple value below 32 (RFC 8949 section 3.3).
  for (const char* h : {"1c", "3d", "5e", "ff", "1f", "3f", "df", "f818", ""}) {
    const auto bytes = hex(h);
    CAPTURE(h);
    CHECK(wellFormed(bytes.data(), bytes.size()) == Status::Malformed);
  }
}

TEST_CASE("oversize lengths and counts are rejected without reading past the input") {
  // A byte string, text, array and map claiming 2^64-1 items, and a bstr of 4 GiB over 5 bytes.
  for (const char* h : {"5bffffffffffffffff00", "7bffffffffffffffff00", "9bffffffffffffffff00", "bbffffffffffffffff0000",
                        "5affffffff0102030405", "8a01", "a20101"}) {
    const auto bytes = hex(h);
    CAPTURE(h);
    CHECK(wellFormed(bytes.data(), bytes.size()) == Status::Malformed);
    Reader r(bytes.data(), bytes.size());
    Bytes b;
    CHECK(r.bytes(b) != Status::Ok);
  }
}

TEST_CASE("nesting is bounded: a depth bomb is TooLarge, the limit itself is fine") {
  std::vector<uint8_t> ok(kMaxDepth, 0x81);
  ok.push_back(0x00);
  CHECK(wellFormed(ok.data(), ok.size()) == Status::Ok);

  std::vector<uint8_t> bomb(100000, 0x81);  // [[[[...]]]] one hundred thousand deep
  bomb.push_back(0x00);
  CHECK(wellFormed(bomb.data(), bomb.size()) == Status::TooLarge);

  std::vector<uint8_t> maps;
  for (int i = 0; i <= kMaxDepth; ++i) maps.insert(maps.end(), {0xa1, 0x00});
  maps.push_back(0x00);
  CHECK(wellFormed(maps.data(), maps.size()) == Status::TooLarge);
}

TEST_CASE("typed reads of another type are Invalid and consume nothing") {
  const auto bytes = hex("6161");
  Reader r(bytes.data(), bytes.size());
  uint64_t v;
  Bytes b;
  bool flag;
  CHECK(r.uint(v) == Status::Invalid);
  CHECK(r.bytes(b) == Status::Invalid);
  CHECK(r.boolean(flag) == Status::Invalid);
  CHECK(r.null() == Status::Invalid);
  CHECK(r.offset() == 0);
  Text t;
  CHECK(r.text(t) == Status::Ok);
  CHECK(std::string(t.data, t.size) == "a");
}

TEST_CASE("the writer reports TooLarge when the buffer is short, at every size") {
  const auto value = M({T("a"), T("A"), T("b"), B(std::string(40, 'x'))});
  uint8_t full[128];
  Writer all(full, sizeof full);
  encode(all, value);
  REQUIRE(all.status() == Status::Ok);
  for (size_t cap = 0; cap < all.size(); ++cap) {
    std::vector<uint8_t> buf(cap + 1, 0xee);
    Writer w(buf.data(), cap);
    encode(w, value);
    CAPTURE(cap);
    CHECK(w.status() == Status::TooLarge);
    CHECK(w.size() <= cap);
    CHECK(buf[cap] == 0xee);  // never writes past capacity
  }
}
