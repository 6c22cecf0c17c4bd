// The MQTT client the session drives, as an interface: the host port wraps
// libmosquitto, the ESP32 port esp-mqtt, unit tests an in-memory fake.
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/status.h"

namespace teddy {

/** What the transport reports back; the session implements it. Called from the session's own thread/task. */
class MqttEvents {
 public:
  virtual void onConnected() = 0;
  virtual void onDisconnected() = 0;
  virtual void onMessage(const char* topic, const uint8_t* payload, size_t size) = 0;

 protected:
  ~MqttEvents() = default;
};

class MqttTransport {
 public:
  /**
   * Starts connecting (client id = username = device id, password = secret,
   * clean session). The outcome arrives later as onConnected or onDisconnected.
   */
  virtual Status connect() = 0;
  virtual void disconnect() = 0;
  virtual Status subscribe(const char* topic, uint8_t qos) = 0;
  virtual Status publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) = 0;

 protected:
  ~MqttTransport() = default;
};

}  // namespace teddy
