#include "mqtt_mosquitto.h"

#include <mosquitto.h>
#include <poll.h>

namespace teddy::host {

namespace {
constexpr int kKeepAliveSeconds = 60;  // docs/protocol.md, "Connection"
}

MosquittoTransport::MosquittoTransport(std::string host, int port, const std::string& deviceId, const std::string& secret)
    : host_(std::move(host)), port_(port) {
  mosquitto_lib_init();
  // Client id = username = device id; clean session (the gateway re-sends what matters after hello).
  mosq_ = mosquitto_new(deviceId.c_str(), true, this);
  mosquitto_username_pw_set(mosq_, deviceId.c_str(), secret.c_str());
  mosquitto_connect_callback_set(mosq_, &MosquittoTransport::onConnect);
  mosquitto_disconnect_callback_set(mosq_, &MosquittoTransport::onDisconnect);
  mosquitto_message_callback_set(mosq_, &MosquittoTransport::onMessage);
}

MosquittoTransport::~MosquittoTransport() {
  mosquitto_destroy(mosq_);
  mosquitto_lib_cleanup();
}

Status MosquittoTransport::connect() {
  // Opens the TCP connection and sends CONNECT; the CONNACK arrives through poll().
  if (mosquitto_connect(mosq_, host_.c_str(), port_, kKeepAliveSeconds) != MOSQ_ERR_SUCCESS) return Status::IoError;
  socketOpen_ = true;
  return Status::Ok;
}

void MosquittoTransport::disconnect() {
  mosquitto_disconnect(mosq_);
  socketOpen_ = false;
}

Status MosquittoTransport::subscribe(const char* topic, uint8_t qos) {
  return mosquitto_subscribe(mosq_, nullptr, topic, qos) == MOSQ_ERR_SUCCESS ? Status::Ok : Status::IoError;
}

Status MosquittoTransport::publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) {
  const int rc = mosquitto_publish(mosq_, nullptr, topic, static_cast<int>(size), payload, qos, false);
  return rc == MOSQ_ERR_SUCCESS ? Status::Ok : Status::IoError;
}

void MosquittoTransport::poll(int timeoutMs) {
  if (!socketOpen_) {
    ::poll(nullptr, 0, timeoutMs);
    return;
  }
  const int rc = mosquitto_loop(mosq_, timeoutMs, 1);
  if (rc != MOSQ_ERR_SUCCESS && socketOpen_) {
    // Lost the broker (mosquitto_loop closed the socket); the session schedules the reconnect.
    socketOpen_ = false;
    events_->onDisconnected();
  }
}

void MosquittoTransport::onConnect(mosquitto*, void* self, int rc) {
  auto* t = static_cast<MosquittoTransport*>(self);
  if (rc == 0) {
    t->events_->onConnected();
    return;
  }
  // CONNACK refused (4 bad credentials, 5 not authorized): close and let the session back off.
  mosquitto_disconnect(t->mosq_);
  t->socketOpen_ = false;
  t->events_->onDisconnected();
}

void MosquittoTransport::onDisconnect(mosquitto*, void* self, int) {
  auto* t = static_cast<MosquittoTransport*>(self);
  if (!t->socketOpen_) return;  // already reported
  t->socketOpen_ = false;
  t->events_->onDisconnected();
}

void MosquittoTransport::onMessage(mosquitto*, void* self, const mosquitto_message* msg) {
  auto* t = static_cast<MosquittoTransport*>(self);
  t->events_->onMessage(msg->topic, static_cast<const uint8_t*>(msg->payload), static_cast<size_t>(msg->payloadlen));
}

}  // namespace teddy::host
