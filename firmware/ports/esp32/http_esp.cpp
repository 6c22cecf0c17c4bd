#include "http_esp.h"

#include <cstdio>
#include <cstring>

#include "esp_crt_bundle.h"

namespace teddy::esp32 {

namespace {
constexpr int kTimeoutMs = 10000;
}

EspHttpClient::EspHttpClient() = default;

EspHttpClient::~EspHttpClient() {
  if (client_ != nullptr) esp_http_client_cleanup(client_);
}

Status EspHttpClient::getRange(cbor::Text url, uint32_t offset, uint8_t* buf, size_t capacity, size_t& received) {
  received = 0;
  if (url.size >= sizeof url_ || capacity == 0) return Status::Invalid;
  std::memcpy(url_, url.data, url.size);
  url_[url.size] = '\0';
  if (client_ == nullptr) {
    esp_http_client_config_t cfg = {};
    cfg.url = url_;
    cfg.timeout_ms = kTimeoutMs;
    cfg.keep_alive_enable = true;
    cfg.crt_bundle_attach = esp_crt_bundle_attach;  // https CDNs, verified against the IDF CA bundle
    client_ = esp_http_client_init(&cfg);
    if (client_ == nullptr) return Status::IoError;
  } else if (esp_http_client_set_url(client_, url_) != ESP_OK) {
    return Status::Invalid;
  }
  char range[48];
  std::snprintf(range, sizeof range, "bytes=%u-%u", static_cast<unsigned>(offset),
                static_cast<unsigned>(offset + capacity - 1));
  esp_http_client_set_header(client_, "Range", range);
  if (esp_http_client_open(client_, 0) != ESP_OK) return Status::IoError;
  Status result = Status::Ok;
  if (esp_http_client_fetch_headers(client_) < 0) {
    result = Status::IoError;
  } else {
    const int code = esp_http_client_get_status_code(client_);
    if (code == 403 || code == 404) result = Status::NotFound;
    else if (code == 416) result = Status::Ok;  // offset at the end
    else if (code != 206 && !(code == 200 && offset == 0)) result = Status::IoError;
    else {
      while (received < capacity) {
        const int n = esp_http_client_read(client_, reinterpret_cast<char*>(buf + received), static_cast<int>(capacity - received));
        if (n < 0) {
          result = Status::IoError;
          break;
        }
        if (n == 0) break;
        received += static_cast<size_t>(n);
      }
      // A 200 to offset 0 for a clip longer than one chunk would keep streaming: not a range server.
      if (result == Status::Ok && code == 200 && !esp_http_client_is_complete_data_received(client_)) result = Status::IoError;
    }
  }
  esp_http_client_close(client_);
  if (result != Status::Ok) received = 0;
  return result;
}

}  // namespace teddy::esp32
