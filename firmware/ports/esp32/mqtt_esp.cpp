#include "mqtt_esp.h"

#include <cstring>

#include "esp_log.h"

namespace teddy::esp32 {

namespace {
const char* kTag = "teddy-mqtt";
constexpr int kKeepAliveSeconds = 60;
}  // namespace

EspMqttTransport::EspMqttTransport(const char* uri, const char* deviceId, const char* secret, uint8_t* rx, size_t rxCapacity)
    : rx_(rx), rxCapacity_(rxCapacity) {
  queue_ = xQueueCreate(8, sizeof(Event));
  rxFree_ = xSemaphoreCreateBinary();
  xSemaphoreGive(rxFree_);
  esp_mqtt_client_config_t cfg = {};
  cfg.broker.address.uri = uri;
  cfg.credentials.client_id = deviceId;  // client id = username = device id (docs/protocol.md)
  cfg.credentials.username = deviceId;
  cfg.credentials.authentication.password = secret;
  cfg.session.keepalive = kKeepAliveSeconds;
  cfg.session.protocol_ver = MQTT_PROTOCOL_V_3_1_1;
  cfg.network.disable_auto_reconnect = true;
  client_ = esp_mqtt_client_init(&cfg);
  esp_mqtt_client_register_event(client_, static_cast<esp_mqtt_event_id_t>(ESP_EVENT_ANY_ID), &EspMqttTransport::onEvent, this);
}

Status EspMqttTransport::connect() {
  const esp_err_t err = started_ ? esp_mqtt_client_reconnect(client_) : esp_mqtt_client_start(client_);
  if (err != ESP_OK) return Status::IoError;
  started_ = true;
  return Status::Ok;
}

void EspMqttTransport::disconnect() { esp_mqtt_client_disconnect(client_); }

Status EspMqttTransport::subscribe(const char* topic, uint8_t qos) {
  return esp_mqtt_client_subscribe_single(client_, topic, qos) >= 0 ? Status::Ok : Status::IoError;
}

Status EspMqttTransport::publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) {
  // Enqueue instead of publish: never block the session's task on the network.
  const int id = esp_mqtt_client_enqueue(client_, topic, reinterpret_cast<const char*>(payload), static_cast<int>(size), qos,
                                         0, true);
  return id >= 0 ? Status::Ok : Status::IoError;
}

void EspMqttTransport::onEvent(void* self, esp_event_base_t, int32_t, void* data) {
  static_cast<EspMqttTransport*>(self)->handle(*static_cast<esp_mqtt_event_t*>(data));
}

// Runs on the esp-mqtt task.
void EspMqttTransport::handle(const esp_mqtt_event_t& e) {
  Event ev{};
  switch (e.event_id) {
    case MQTT_EVENT_CONNECTED:
      ev.kind = Kind::Connected;
      xQueueSend(queue_, &ev, portMAX_DELAY);
      return;
    case MQTT_EVENT_DISCONNECTED:
      ev.kind = Kind::Disconnected;
      xQueueSend(queue_, &ev, portMAX_DELAY);
      return;
    case MQTT_EVENT_DATA:
      break;
    default:
      return;
  }
  // A message longer than esp-mqtt's buffer arrives in fragments; only the first carries the topic.
  if (e.current_data_offset == 0) {
    xSemaphoreTake(rxFree_, portMAX_DELAY);  // the session is done with the previous message
    rxDropping_ = static_cast<size_t>(e.total_data_len) > rxCapacity_ || static_cast<size_t>(e.topic_len) >= sizeof topic_;
    if (rxDropping_) {
      ESP_LOGW(kTag, "dropping a %d-byte message: larger than the receive buffer", e.total_data_len);
    } else {
      std::memcpy(topic_, e.topic, e.topic_len);
      topic_[e.topic_len] = '\0';
    }
  }
  if (!rxDropping_) std::memcpy(rx_ + e.current_data_offset, e.data, e.data_len);
  if (e.current_data_offset + e.data_len < e.total_data_len) return;
  if (rxDropping_) {
    xSemaphoreGive(rxFree_);
    return;
  }
  ev.kind = Kind::Message;
  ev.size = static_cast<size_t>(e.total_data_len);
  xQueueSend(queue_, &ev, portMAX_DELAY);
}

void EspMqttTransport::poll(uint32_t timeoutMs) {
  Event ev;
  TickType_t wait = pdMS_TO_TICKS(timeoutMs);
  while (xQueueReceive(queue_, &ev, wait) == pdTRUE) {
    wait = 0;
    switch (ev.kind) {
      case Kind::Connected: events_->onConnected(); break;
      case Kind::Disconnected: events_->onDisconnected(); break;
      case Kind::Message:
        events_->onMessage(topic_, rx_, ev.size);
        xSemaphoreGive(rxFree_);
        break;
    }
  }
}

}  // namespace teddy::esp32
