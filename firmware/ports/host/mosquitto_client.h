// The host's MQTT client, built on libmosquitto to behave as esp-mqtt does on
// the device, so the host runs the ESP32 port's bridge (ports/common/
// mqtt_bridge.h) under the same rule: the client has its own task (a thread)
// that holds the client's API lock while it connects (TCP and TLS handshake)
// and while it delivers events to the bridge; connect/subscribe/enqueue take
// that lock, as esp_mqtt_set_config/_subscribe/_enqueue do; disconnect only
// raises a flag, as esp_mqtt_client_disconnect does. An event handler that
// waited for the session's thread, or a session that called into the client,
// would deadlock here exactly as on the device (firmware/test/test_mqtt_bridge).
//
// mqtts:// URLs connect over TLS 1.2+ with the CA file (peer and host name
// verified) and, for mutual TLS, a client certificate and key.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "mqtt_bridge.h"
#include "tls_files.h"

struct mosquitto;
struct mosquitto_message;

namespace teddy::host {

/** mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (default ports 1883 and 8883); false if it is neither. */
bool parseMqttUrl(const std::string& url, std::string& host, int& port, bool& tls);

class MosquittoClient final : public MqttClientApi {
 public:
  MosquittoClient(MqttBridge& bridge, std::string deviceId, std::string secret, TlsFiles tls);
  ~MosquittoClient();
  MosquittoClient(const MosquittoClient&) = delete;
  MosquittoClient& operator=(const MosquittoClient&) = delete;

  bool connect(const char* url) override;
  void disconnect() override;
  bool subscribe(const char* topic, uint8_t qos) override;
  bool enqueue(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) override;

 private:
  void run();
  void connectNow();   // under the lock
  void closeNow();     // under the lock
  static void onConnect(mosquitto*, void* self, int rc);
  static void onDisconnect(mosquitto*, void* self, int rc);
  static void onMessage(mosquitto*, void* self, const mosquitto_message* msg);

  MqttBridge& bridge_;
  std::string deviceId_;
  std::string secret_;
  TlsFiles tls_;
  std::recursive_mutex api_;  // esp-mqtt's API lock
  mosquitto* mosq_ = nullptr;  // under api_
  std::string host_;          // under api_
  int port_ = 0;
  bool useTls_ = false;
  std::atomic<bool> wantConnect_{false};
  bool open_ = false;         // a socket is open (connecting or connected)
  bool connected_ = false;    // CONNACK accepted
  std::atomic<bool> wantDisconnect_{false};
  std::atomic<bool> running_{true};
  std::mutex idleMutex_;
  std::condition_variable idle_;  // wakes the client's task when there is something to connect
  std::thread task_;
};

}  // namespace teddy::host
