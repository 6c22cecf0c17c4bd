// HttpClient on libcurl's multi interface, driven from the session's thread
// without ever waiting on the network: startRange() adds the transfer,
// pollRange() lets curl do what the sockets allow now. One easy handle is
// reused for every range, so curl keeps the connection (TCP and TLS) open
// across chunks. https:// URLs are verified against the CA file when one is
// given (else the system's CAs), with an optional client certificate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "teddy/http_client.h"
#include "tls_files.h"

namespace teddy::host {

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(const TlsFiles& tls);
  ~CurlHttpClient();
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Status startRange(cbor::Text url, uint32_t offset, size_t length) override;
  Status pollRange(const uint8_t*& data, size_t& received) override;

  static constexpr size_t kBufferBytes = 4096;

 private:
  static size_t onBody(char* data, size_t one, size_t n, void* self);

  void* multi_;
  void* easy_;
  bool inFlight_ = false;
  uint32_t offset_ = 0;
  size_t length_ = 0;
  size_t size_ = 0;
  bool overflow_ = false;
  std::string url_;
  uint8_t buf_[kBufferBytes];
};

}  // namespace teddy::host
