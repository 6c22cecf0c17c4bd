// The MQTT client the session drives, as an interface. Both ports implement it
// with the same bridge (ports/common/mqtt_bridge.h) over an esp-mqtt-like
// client (esp-mqtt on the device, a double of its threading and locking rule
// over libmosquitto on the host); unit tests use an in-memory fake. Every call
// returns at once: none waits on the network.
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
   * Starts connecting to `url` (mqtt://HOST:PORT or mqtts://HOST:PORT; client
   * id = username = device id, password = secret, clean session). The outcome
   * arrives later as onConnected or onDisconnected.
   */
  virtual Status connect(const char* url) = 0;
  virtual void disconnect() = 0;
  virtual Status subscribe(const char* topic, uint8_t qos) = 0;
  virtual Status publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) = 0;

 protected:
  ~MqttTransport() = default;
};

}  // namespace teddy
