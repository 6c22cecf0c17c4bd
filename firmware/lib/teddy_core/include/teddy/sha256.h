// Streaming SHA-256 on mbedtls (the host's libmbedcrypto; ESP-IDF ships the
// same API, backed by the SHA accelerator).
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/types.h"

namespace teddy {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  /** Starts over (a new digest). */
  void reset();
  void update(const uint8_t* data, size_t size);
  Digest finish();

 private:
  alignas(8) uint8_t ctx_[128];  // mbedtls_sha256_context, kept opaque so callers need no mbedtls headers
};

}  // namespace teddy
