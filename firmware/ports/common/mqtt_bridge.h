// The session's MqttTransport on an esp-mqtt-like client, shared by both ports
// (esp-mqtt on the ESP32; on the host a double of esp-mqtt over libmosquitto).
//
// esp-mqtt's rule (mqtt_client.c): its task holds the client's API lock while
// it connects (TCP and TLS, up to network_timeout_ms) and while it delivers
// events to the application's handler; esp_mqtt_client_enqueue, _subscribe*
// and esp_mqtt_set_config take the same lock. So the handler must never wait
// for the application's task, and the application's task must never call
// those functions. The bridge keeps three roles apart:
//
// - the session's task: MqttTransport calls become commands in the outbox and
//   return at once (a full outbox drops the command and counts it; the
//   session's retries recover); deliver() hands queued events to the session;
// - the client's task, in its event handler: clientConnected / clientData /
//   clientDisconnected copy into the inbox and return (drops counted);
// - the bridge's own network task: drain() performs the commands on the
//   client. It may wait there on the lock or the network: that is its only job.
//
// Link changes are not messages (they cannot be dropped): a counter, even =
// down, odd = up, bumped by the client's task; each inbox message carries the
// link it arrived on, so data from a connection the session never saw is
// discarded and the session sees connect/disconnect in order. A connect that
// fails before it is up is reported by attempt number, so the failure of an
// attempt the session has already given up on does not end the next one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "message_queue.h"
#include "teddy/mqtt_transport.h"

namespace teddy {

/** What the bridge needs of the client (esp-mqtt's calls that take its lock, and the two that do not). */
class MqttClientApi {
 public:
  /** Connects to `url`, replacing any earlier connection; false if it cannot even start. */
  virtual bool connect(const char* url) = 0;
  virtual void disconnect() = 0;
  virtual bool subscribe(const char* topic, uint8_t qos) = 0;
  /** Queues a publish for the client's task to send (esp_mqtt_client_enqueue). */
  virtual bool enqueue(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) = 0;

 protected:
  ~MqttClientApi() = default;
};

/** Wakes a task that waits for work; never blocks (a FreeRTOS task notification, a pipe on the host). */
class Wakeup {
 public:
  virtual void wake() = 0;

 protected:
  ~Wakeup() = default;
};

class MqttBridge final : public MqttTransport {
 public:
  MqttBridge(MessageQueue& inbox, MessageQueue& outbox, Wakeup& networkTask, Wakeup& sessionTask)
      : inbox_(inbox), outbox_(outbox), network_(networkTask), session_(sessionTask) {}

  // ---- the session's task ----
  Status connect(const char* url) override;
  void disconnect() override;
  Status subscribe(const char* topic, uint8_t qos) override;
  Status publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) override;
  /** Hands what the client reported since the last call to the session, in order. */
  void deliver(MqttEvents& events);

  // ---- the client's task (its event handler): copy, never wait ----
  void clientConnected();
  /** The connection ended, or (while not up) the current connect attempt failed. */
  void clientDisconnected();
  /** One fragment of a message: `offset` of `total` bytes (esp-mqtt's current_data_offset, total_data_len). */
  void clientData(const char* topic, size_t topicSize, const uint8_t* data, size_t size, size_t offset, size_t total);

  // ---- the bridge's network task ----
  /** Performs every queued command on the client; returns when the outbox is empty. */
  void drain(MqttClientApi& client);

  uint32_t inboxDropped() const { return inbox_.dropped(); }
  uint32_t outboxDropped() const { return outbox_.dropped(); }

 private:
  Status command(uint8_t kind, uint8_t qos, const char* topic, const uint8_t* payload, size_t size);

  MessageQueue& inbox_;
  MessageQueue& outbox_;
  Wakeup& network_;
  Wakeup& session_;
  std::atomic<uint32_t> link_{0};         // written by the client's task only
  std::atomic<uint32_t> refused_{0};      // the attempt that failed (client's task)
  std::atomic<uint32_t> attempt_{0};      // the attempt being made (network task)
  std::atomic<uint32_t> notStarted_{0};   // the attempt the client could not start (network task)
  uint32_t requested_ = 0;                // the session's task only: connects asked for
  uint32_t reported_ = 0;                 // the last attempt reported failed
  uint32_t seenLink_ = 0;
};

}  // namespace teddy
