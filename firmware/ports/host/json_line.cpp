#include "json_line.h"

#include <cstdio>
#include <cstring>

namespace teddy::host {

std::string hexOf(const ClipId& id) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id) s += digits[b >> 4], s += digits[b & 15];
  return s;
}

void JsonLine::key(const char* k) {
  if (out_.size() > 1) out_ += ',';
  out_ += '"';
  out_ += k;
  out_ += "\":";
}

JsonLine& JsonLine::str(const char* k, const char* value) { return str(k, value, std::strlen(value)); }

JsonLine& JsonLine::str(const char* k, const char* value, size_t size) {
  key(k);
  out_ += '"';
  for (size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out_ += '\\';
      out_ += static_cast<char>(c);
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out_ += esc;
    } else {
      out_ += static_cast<char>(c);  // UTF-8 passes through
    }
  }
  out_ += '"';
  return *this;
}

JsonLine& JsonLine::num(const char* k, uint64_t value) {
  key(k);
  out_ += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::hex(const char* k, const ClipId& id) {
  key(k);
  out_ += '"' + hexOf(id) + '"';
  return *this;
}

JsonLine& JsonLine::ids(const char* k, const protocol::ClipIdList& list) {
  key(k);
  out_ += '[';
  for (uint16_t i = 0; i < list.count; ++i) out_ += (i ? ",\"" : "\"") + hexOf(list.ids[i]) + '"';
  out_ += ']';
  return *this;
}

void JsonLine::print() {
  out_ += "}\n";
  std::fputs(out_.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace teddy::host
