#include "mqtt_esp.h"

#include <cstring>

#include "esp_crt_bundle.h"
#include "esp_log.h"

namespace teddy::esp32 {

namespace {
const char* kTag = "teddy-mqtt";
constexpr int kKeepAliveSeconds = 60;   // docs/protocol.md, "Connection"
constexpr int kNetworkTimeoutMs = 10000;  // one connect attempt (TCP + TLS), one write
}  // namespace

void EspMqttClient::configure(esp_mqtt_client_config_t& cfg, const char* url) const {
  cfg.broker.address.uri = url;
  if (creds_.caPem != nullptr) {
    cfg.broker.verification.certificate = creds_.caPem;  // NUL-terminated PEM: length 0
  } else {
    cfg.broker.verification.crt_bundle_attach = esp_crt_bundle_attach;
  }
  cfg.credentials.client_id = creds_.deviceId;  // client id = username = device id (docs/protocol.md)
  cfg.credentials.username = creds_.deviceId;
  cfg.credentials.authentication.password = creds_.secret;
  if (creds_.certPem != nullptr && creds_.keyPem != nullptr) {
    cfg.credentials.authentication.certificate = creds_.certPem;
    cfg.credentials.authentication.key = creds_.keyPem;
  }
  cfg.session.keepalive = kKeepAliveSeconds;
  cfg.session.protocol_ver = MQTT_PROTOCOL_V_3_1_1;
  cfg.network.disable_auto_reconnect = true;
  cfg.network.timeout_ms = kNetworkTimeoutMs;
  cfg.task.stack_size = kTaskStackBytes;
}

bool EspMqttClient::connect(const char* url) {
  esp_mqtt_client_config_t cfg = {};
  configure(cfg, url);
  if (client_ == nullptr) {
    client_ = esp_mqtt_client_init(&cfg);
    if (client_ == nullptr) return false;
    esp_mqtt_client_register_event(client_, static_cast<esp_mqtt_event_id_t>(ESP_EVENT_ANY_ID), &EspMqttClient::onEvent,
                                   this);
  } else if (esp_mqtt_set_config(client_, &cfg) != ESP_OK) {  // the next gateway (takes the API lock)
    return false;
  }
  const esp_err_t err = started_ ? esp_mqtt_client_reconnect(client_) : esp_mqtt_client_start(client_);
  if (err != ESP_OK) {
    ESP_LOGW(kTag, "connect: %s", esp_err_to_name(err));
    return false;
  }
  started_ = true;
  return true;
}

void EspMqttClient::disconnect() {
  if (client_ != nullptr) esp_mqtt_client_disconnect(client_);
}

bool EspMqttClient::subscribe(const char* topic, uint8_t qos) {
  return client_ != nullptr && esp_mqtt_client_subscribe_single(client_, topic, qos) >= 0;
}

bool EspMqttClient::enqueue(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) {
  // Into esp-mqtt's outbox; its task sends it. (store = true: QoS 0 stats wait for the connection too.)
  return client_ != nullptr &&
         esp_mqtt_client_enqueue(client_, topic, reinterpret_cast<const char*>(payload), static_cast<int>(size), qos, 0,
                                 true) >= 0;
}

// esp-mqtt's task, holding the client's API lock: copy into the bridge and return, never wait.
void EspMqttClient::onEvent(void* self, esp_event_base_t, int32_t, void* data) {
  auto* client = static_cast<EspMqttClient*>(self);
  const auto& e = *static_cast<esp_mqtt_event_t*>(data);
  switch (e.event_id) {
    case MQTT_EVENT_CONNECTED: client->bridge_.clientConnected(); break;
    case MQTT_EVENT_DISCONNECTED: client->bridge_.clientDisconnected(); break;  // also a failed connect attempt
    case MQTT_EVENT_DATA:
      // A message longer than esp-mqtt's buffer arrives in fragments; only the first carries the topic.
      client->bridge_.clientData(e.topic, static_cast<size_t>(e.topic_len), reinterpret_cast<const uint8_t*>(e.data),
                                 static_cast<size_t>(e.data_len), static_cast<size_t>(e.current_data_offset),
                                 static_cast<size_t>(e.total_data_len));
      break;
    default: break;
  }
}

}  // namespace teddy::esp32
