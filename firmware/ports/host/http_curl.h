// HttpClient on libcurl: one easy handle reused across chunks (keep-alive).
#pragma once

#include "teddy/http_client.h"

namespace teddy::host {

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  ~CurlHttpClient();
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Status getRange(cbor::Text url, uint32_t offset, uint8_t* buf, size_t capacity, size_t& received) override;

 private:
  void* curl_;
};

}  // namespace teddy::host
