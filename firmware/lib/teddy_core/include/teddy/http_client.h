// HTTP GET with a byte range, as an interface: the host port drives libcurl's
// multi interface, the ESP32 port hands the request to its HTTP task
// (esp_http_client), unit tests use an in-memory fake. Asynchronous, so the
// session's task never waits on the network: start a range, then poll it on
// later ticks. Ports keep one connection open across ranges (keep-alive).
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/cbor.h"
#include "teddy/status.h"

namespace teddy {

class HttpClient {
 public:
  /**
   * Starts `GET url` with `Range: bytes=offset-(offset+length-1)`, returning at
   * once: Ok (started), Busy (a range is still in flight), Invalid or TooLarge
   * (url or length beyond the port's buffers).
   */
  virtual Status startRange(cbor::Text url, uint32_t offset, size_t length) = 0;
  /**
   * The range started last: Busy while in flight; then, once, its outcome:
   * Ok with the body in `data` (the port's buffer, valid until the next
   * startRange; fewer bytes than asked only at the end of the resource);
   * NotFound for 404/403 (missing or expired URL); IoError for anything else
   * (network, 5xx, a server ignoring Range). Invalid if nothing was started.
   */
  virtual Status pollRange(const uint8_t*& data, size_t& received) = 0;

 protected:
  ~HttpClient() = default;
};

}  // namespace teddy
