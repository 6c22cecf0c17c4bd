// libFuzzer target: arbitrary bytes as a protocol message. Decoding must never
// crash or read out of bounds (ASan/UBSan watch); whatever decodes must
// re-encode, and the re-encoding must decode and re-encode to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "teddy/protocol.h"

using teddy::Status;
using namespace teddy::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Message first;
  uint32_t requestId = 0;
  if (decode(data, size, first, &requestId) != Status::Ok) return 0;

  // Re-encoding drops unknown keys and uses shortest forms, so it is never longer than the input.
  std::vector<uint8_t> once(size);
  size_t onceSize = 0;
  if (encode(first, once.data(), once.size(), onceSize) != Status::Ok) std::abort();

  Message second;
  if (decode(once.data(), onceSize, second) != Status::Ok) std::abort();
  if (correlationId(second) != correlationId(first) || second.type != first.type) std::abort();
  std::vector<uint8_t> twice(onceSize);
  size_t twiceSize = 0;
  if (encode(second, twice.data(), twice.size(), twiceSize) != Status::Ok) std::abort();
  if (twiceSize != onceSize || std::memcmp(once.data(), twice.data(), onceSize) != 0) std::abort();
  return 0;
}
