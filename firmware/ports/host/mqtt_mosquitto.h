// MqttTransport on libmosquitto, driven from the caller's loop (no library
// thread): poll() services the socket and delivers events on the caller's
// thread, so the session needs no locks.
#pragma once

#include <string>

#include "teddy/mqtt_transport.h"

struct mosquitto;
struct mosquitto_message;

namespace teddy::host {

class MosquittoTransport final : public MqttTransport {
 public:
  MosquittoTransport(std::string host, int port, const std::string& deviceId, const std::string& secret);
  ~MosquittoTransport();
  MosquittoTransport(const MosquittoTransport&) = delete;
  MosquittoTransport& operator=(const MosquittoTransport&) = delete;

  /** Where events go; call before the first poll(). */
  void bind(MqttEvents& events) { events_ = &events; }

  Status connect() override;
  void disconnect() override;
  Status subscribe(const char* topic, uint8_t qos) override;
  Status publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) override;

  /** Services the connection for up to timeoutMs (sleeps that long while disconnected). */
  void poll(int timeoutMs);

 private:
  static void onConnect(mosquitto*, void* self, int rc);
  static void onDisconnect(mosquitto*, void* self, int rc);
  static void onMessage(mosquitto*, void* self, const mosquitto_message* msg);

  std::string host_;
  int port_;
  MqttEvents* events_ = nullptr;
  mosquitto* mosq_ = nullptr;
  bool socketOpen_ = false;
};

}  // namespace teddy::host
