// HttpClient on ESP-IDF's esp_http_client, on a task of its own so the
// session's task never waits on the network: startRange() hands the request
// to the HTTP task and returns; pollRange() reads its outcome. One handle,
// one connection (TCP and TLS) reused across Range chunks: the response body
// is read to its end and the connection kept open; it is closed only after
// an error. https:// is verified against the CA from NVS, else ESP-IDF's
// certificate bundle; a client certificate and key give mutual TLS.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "esp_http_client.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "teddy/http_client.h"

namespace teddy::esp32 {

struct HttpTls {
  const char* caPem = nullptr;  // NUL-terminated PEM, or nullptr for the certificate bundle
  const char* certPem = nullptr;
  const char* keyPem = nullptr;
};

class EspHttpClient final : public HttpClient {
 public:
  explicit EspHttpClient(const HttpTls& tls) : tls_(tls) {}
  /** Starts the HTTP task (stack: kTaskStackBytes); false if it cannot be created. */
  bool start(UBaseType_t priority);

  Status startRange(cbor::Text url, uint32_t offset, size_t length) override;
  Status pollRange(const uint8_t*& data, size_t& received) override;

  static constexpr size_t kBufferBytes = 4096;  // one chunk (one erase block)
  /** esp_http_client + a TLS 1.2 handshake (mbedtls, certificate chain verification) need about 6 KiB. */
  static constexpr uint32_t kTaskStackBytes = 8 * 1024;

 private:
  enum State : uint32_t { Idle, Requested, Done };
  static void taskMain(void* self);
  void fetch();
  Status fetchRange();

  HttpTls tls_;
  TaskHandle_t task_ = nullptr;
  esp_http_client_handle_t client_ = nullptr;  // the HTTP task's only
  std::atomic<uint32_t> state_{Idle};
  // Written by the session's task before Requested, by the HTTP task before Done.
  char url_[513] = {};  // protocol bound: 512 bytes + NUL
  uint32_t offset_ = 0;
  size_t length_ = 0;
  size_t received_ = 0;
  Status result_ = Status::Ok;
  uint8_t buf_[kBufferBytes];
};

}  // namespace teddy::esp32
