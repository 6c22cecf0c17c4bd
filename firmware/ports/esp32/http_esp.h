// HttpClient on ESP-IDF's esp_http_client: one handle reused across chunks
// (keep-alive to the origin/CDN), one Range request per chunk.
#pragma once

#include "esp_http_client.h"
#include "teddy/http_client.h"

namespace teddy::esp32 {

class EspHttpClient final : public HttpClient {
 public:
  EspHttpClient();
  ~EspHttpClient();
  Status getRange(cbor::Text url, uint32_t offset, uint8_t* buf, size_t capacity, size_t& received) override;

 private:
  esp_http_client_handle_t client_ = nullptr;
  char url_[513] = {};  // protocol bound: 512 bytes + NUL
};

}  // namespace teddy::esp32
