#include "http_esp.h"

#include <cstdio>
#include <cstring>

#include "esp_crt_bundle.h"
#include "esp_log.h"
#include "esp_task_wdt.h"

namespace teddy::esp32 {

namespace {
const char* kTag = "teddy-http";
constexpr int kTimeoutMs = 10000;  // per network operation; the task watchdog allows 30 s
}  // namespace

bool EspHttpClient::start(UBaseType_t priority) {
  return xTaskCreate(&EspHttpClient::taskMain, "teddy-http", kTaskStackBytes, this, priority, &task_) == pdPASS;
}

Status EspHttpClient::startRange(cbor::Text url, uint32_t offset, size_t length) {
  if (state_.load(std::memory_order_acquire) == Requested) return Status::Busy;
  if (url.size >= sizeof url_ || length == 0) return Status::Invalid;
  if (length > kBufferBytes) return Status::TooLarge;
  std::memcpy(url_, url.data, url.size);
  url_[url.size] = '\0';
  offset_ = offset;
  length_ = length;
  state_.store(Requested, std::memory_order_release);
  xTaskNotifyGive(task_);
  return Status::Ok;
}

Status EspHttpClient::pollRange(const uint8_t*& data, size_t& received) {
  received = 0;
  const uint32_t state = state_.load(std::memory_order_acquire);
  if (state == Requested) return Status::Busy;
  if (state == Idle) return Status::Invalid;
  state_.store(Idle, std::memory_order_relaxed);
  data = buf_;
  received = result_ == Status::Ok ? received_ : 0;
  return result_;
}

void EspHttpClient::taskMain(void* self) {
  auto* http = static_cast<EspHttpClient*>(self);
  esp_task_wdt_add(nullptr);  // a request stuck past the watchdog's timeout resets the bear
  for (;;) {
    ulTaskNotifyTake(pdTRUE, pdMS_TO_TICKS(1000));
    esp_task_wdt_reset();
    if (http->state_.load(std::memory_order_acquire) == Requested) http->fetch();
  }
}

void EspHttpClient::fetch() {
  result_ = fetchRange();
  if (result_ != Status::Ok && client_ != nullptr) esp_http_client_close(client_);  // start afresh next time
  state_.store(Done, std::memory_order_release);
}

Status EspHttpClient::fetchRange() {
  received_ = 0;
  if (client_ == nullptr) {
    esp_http_client_config_t cfg = {};
    cfg.url = url_;
    cfg.timeout_ms = kTimeoutMs;
    cfg.keep_alive_enable = true;
    if (tls_.caPem != nullptr) cfg.cert_pem = tls_.caPem;
    else cfg.crt_bundle_attach = esp_crt_bundle_attach;  // https CDNs, verified against the IDF CA bundle
    cfg.client_cert_pem = tls_.certPem;
    cfg.client_key_pem = tls_.keyPem;
    client_ = esp_http_client_init(&cfg);
    if (client_ == nullptr) return Status::IoError;
  } else if (esp_http_client_set_url(client_, url_) != ESP_OK) {  // same host: the connection stays open
    return Status::Invalid;
  }
  char range[48];
  std::snprintf(range, sizeof range, "bytes=%u-%u", static_cast<unsigned>(offset_),
                static_cast<unsigned>(offset_ + length_ - 1));
  esp_http_client_set_header(client_, "Range", range);
  // Opens the connection only if it is not open already (keep-alive across chunks). Each step is
  // bounded by kTimeoutMs; the watchdog is fed between them, so only a step that hangs resets the bear.
  if (esp_http_client_open(client_, 0) != ESP_OK) return Status::IoError;
  esp_task_wdt_reset();
  if (esp_http_client_fetch_headers(client_) < 0) return Status::IoError;
  esp_task_wdt_reset();
  const int code = esp_http_client_get_status_code(client_);
  if (code == 403 || code == 404) {
    int ignored = 0;
    esp_http_client_flush_response(client_, &ignored);
    return Status::NotFound;
  }
  if (code == 416) return Status::Ok;  // offset at the end
  if (code != 206 && !(code == 200 && offset_ == 0)) return Status::IoError;
  while (received_ < length_) {
    const int n = esp_http_client_read(client_, reinterpret_cast<char*>(buf_ + received_), static_cast<int>(length_ - received_));
    if (n < 0) return Status::IoError;
    if (n == 0) break;
    received_ += static_cast<size_t>(n);
    esp_task_wdt_reset();
  }
  // The whole body must have been read for the connection to carry the next range; a 200 to offset 0
  // for a clip longer than one chunk would keep streaming: not a range server.
  if (!esp_http_client_is_complete_data_received(client_)) {
    ESP_LOGW(kTag, "response longer than the range asked for");
    return Status::IoError;
  }
  return Status::Ok;
}

}  // namespace teddy::esp32
