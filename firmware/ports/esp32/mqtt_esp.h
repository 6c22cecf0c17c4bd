// The bridge's client on ESP-IDF's esp-mqtt (ports/common/mqtt_bridge.h says
// why and how the bear's tasks stay apart). The event handler runs on
// esp-mqtt's task while it holds the client's API lock: it only copies into
// the bridge and returns. connect/subscribe/enqueue run on the bridge's
// network task, never on the session's. Auto-reconnect is off: the session
// owns reconnection and fail-over between gateways (full-jitter backoff).
//
// TLS (mqtts://): the server is verified against the CA from NVS when one is
// provisioned, else against ESP-IDF's certificate bundle; a client
// certificate and key (NVS) give mutual TLS. Needs ESP-IDF >= 5.1
// (esp_mqtt_client_subscribe_single, the 5.x configuration structs).
#pragma once

#include <cstddef>
#include <cstdint>

#include "mqtt_bridge.h"
#include "mqtt_client.h"

namespace teddy::esp32 {

struct MqttCredentials {
  const char* deviceId;
  const char* secret;
  const char* caPem = nullptr;    // NUL-terminated PEM, or nullptr for the certificate bundle
  const char* certPem = nullptr;  // mutual TLS (both or neither)
  const char* keyPem = nullptr;
};

class EspMqttClient final : public MqttClientApi {
 public:
  EspMqttClient(MqttBridge& bridge, const MqttCredentials& credentials) : bridge_(bridge), creds_(credentials) {}

  // The bridge's network task only.
  bool connect(const char* url) override;
  void disconnect() override;
  bool subscribe(const char* topic, uint8_t qos) override;
  bool enqueue(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) override;

  /** esp-mqtt's own task: 6 KiB (its default) plus the TLS handshake's certificate parsing. */
  static constexpr int kTaskStackBytes = 7 * 1024;

 private:
  static void onEvent(void* self, esp_event_base_t base, int32_t id, void* data);
  void configure(esp_mqtt_client_config_t& cfg, const char* url) const;

  MqttBridge& bridge_;
  MqttCredentials creds_;
  esp_mqtt_client_handle_t client_ = nullptr;
  bool started_ = false;
};

}  // namespace teddy::esp32
