// One JSON object per stdout line: the teddy-bear binary's event output.
// Only what the events need: strings (escaped), numbers, hex ids and id lists.
#pragma once

#include <cstdint>
#include <string>

#include "teddy/protocol.h"
#include "teddy/types.h"

namespace teddy::host {

class JsonLine {
 public:
  explicit JsonLine(const char* event) { str("event", event); }

  JsonLine& str(const char* key, const char* value);
  JsonLine& str(const char* key, const char* value, size_t size);
  JsonLine& num(const char* key, uint64_t value);
  JsonLine& hex(const char* key, const ClipId& id);
  JsonLine& ids(const char* key, const protocol::ClipIdList& list);
  /** Writes the line to stdout and flushes (the reader is usually a pipe). */
  void print();

 private:
  void key(const char* k);
  std::string out_ = "{";
};

std::string hexOf(const ClipId& id);

}  // namespace teddy::host
