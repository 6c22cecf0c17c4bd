// HTTP GET with a byte range, as an interface: the host port wraps libcurl,
// the ESP32 port esp_http_client, unit tests an in-memory fake.
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/cbor.h"
#include "teddy/status.h"

namespace teddy {

class HttpClient {
 public:
  /**
   * GETs `url` with `Range: bytes=offset-(offset+capacity-1)` and writes the
   * body into buf. Ok with `received` bytes (fewer than capacity only at the
   * end of the resource); NotFound for 404/403 (missing or expired URL);
   * IoError for anything else (network, 5xx, a server ignoring Range).
   * Blocks for one chunk; the session calls it once per tick.
   */
  virtual Status getRange(cbor::Text url, uint32_t offset, uint8_t* buf, size_t capacity, size_t& received) = 0;

 protected:
  ~HttpClient() = default;
};

}  // namespace teddy
