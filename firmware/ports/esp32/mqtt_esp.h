// MqttTransport on ESP-IDF's esp-mqtt. esp-mqtt runs its own task; its
// events are handed to the session's task through a queue, so the session
// stays single-threaded like on the host. Auto-reconnect is off: the session
// owns reconnection (full-jitter backoff), as everywhere else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "mqtt_client.h"
#include "teddy/mqtt_transport.h"

namespace teddy::esp32 {

class EspMqttTransport final : public MqttTransport {
 public:
  /** `rx` receives one message at a time (reassembled from esp-mqtt's fragments). */
  EspMqttTransport(const char* uri, const char* deviceId, const char* secret, uint8_t* rx, size_t rxCapacity);

  void bind(MqttEvents& events) { events_ = &events; }
  Status connect() override;
  void disconnect() override;
  Status subscribe(const char* topic, uint8_t qos) override;
  Status publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) override;

  /** Delivers queued events on the caller's task, waiting up to timeoutMs for the first. */
  void poll(uint32_t timeoutMs);

 private:
  enum class Kind : uint8_t { Connected, Disconnected, Message };
  struct Event {
    Kind kind;
    size_t size;  // Message: payload bytes in rx_
  };
  static void onEvent(void* self, esp_event_base_t base, int32_t id, void* data);
  void handle(const esp_mqtt_event_t& e);

  esp_mqtt_client_handle_t client_ = nullptr;
  bool started_ = false;
  MqttEvents* events_ = nullptr;
  QueueHandle_t queue_;
  SemaphoreHandle_t rxFree_;  // taken by the esp-mqtt task while rx_ holds an undelivered message
  uint8_t* rx_;
  size_t rxCapacity_;
  bool rxDropping_ = false;  // the current message is larger than rx_: skip its fragments
  char topic_[96] = {};
};

}  // namespace teddy::esp32
