#include "mqtt_bridge.h"

#include <cstring>

namespace teddy {

namespace {
enum Command : uint8_t { kConnect = 1, kDisconnect, kSubscribe, kPublish };
constexpr uint8_t kData = 1;
}  // namespace

// ---- the session's task ----

Status MqttBridge::command(uint8_t kind, uint8_t qos, const char* topic, const uint8_t* payload, size_t size) {
  const bool queued = outbox_.push(kind, qos, 0, topic, topic ? std::strlen(topic) : 0, payload, static_cast<uint32_t>(size));
  if (!queued) return Status::Busy;
  network_.wake();
  return Status::Ok;
}

Status MqttBridge::connect(const char* url) {
  const bool queued =
      outbox_.push(kConnect, 0, requested_ + 1, url, std::strlen(url), nullptr, 0);
  if (!queued) return Status::Busy;
  ++requested_;
  network_.wake();
  return Status::Ok;
}

void MqttBridge::disconnect() { command(kDisconnect, 0, nullptr, nullptr, 0); }

Status MqttBridge::subscribe(const char* topic, uint8_t qos) { return command(kSubscribe, qos, topic, nullptr, 0); }

Status MqttBridge::publish(const char* topic, const uint8_t* payload, size_t size, uint8_t qos) {
  return command(kPublish, qos, topic, payload, size);
}

void MqttBridge::deliver(MqttEvents& events) {
  for (;;) {
    if (reported_ != requested_ && (seenLink_ & 1u) == 0 &&
        (refused_.load(std::memory_order_acquire) == requested_ || notStarted_.load(std::memory_order_acquire) == requested_)) {
      reported_ = requested_;
      events.onDisconnected();  // the connect asked for last never got going
    }
    const uint32_t link = link_.load(std::memory_order_acquire);
    MessageQueue::Message m;
    const bool have = inbox_.front(m);
    if (have && m.tag == seenLink_) {
      events.onMessage(m.topic, m.data, m.size);
      inbox_.pop();
      continue;
    }
    if (have && m.tag < seenLink_) {  // from a connection the session has already seen end
      inbox_.pop();
      continue;
    }
    if (link == seenLink_) return;
    if (seenLink_ & 1u) {
      ++seenLink_;  // the link the session knows went down (at least once since)
      events.onDisconnected();
    } else if (link - seenLink_ == 1) {
      ++seenLink_;
      events.onConnected();
    } else {
      seenLink_ += 2;  // a connection that came and went before the session looked: skip it
    }
  }
}

// ---- the client's task ----

void MqttBridge::clientConnected() {
  const uint32_t link = link_.load(std::memory_order_relaxed);
  if (link & 1u) return;
  link_.store(link + 1, std::memory_order_release);
  session_.wake();
}

void MqttBridge::clientDisconnected() {
  inbox_.abort();  // a message cut off mid-delivery gives its room back
  const uint32_t link = link_.load(std::memory_order_relaxed);
  if ((link & 1u) == 0) {
    refused_.store(attempt_.load(std::memory_order_acquire), std::memory_order_release);
    session_.wake();
    return;
  }
  link_.store(link + 1, std::memory_order_release);
  session_.wake();
}

void MqttBridge::clientData(const char* topic, size_t topicSize, const uint8_t* data, size_t size, size_t offset,
                            size_t total) {
  const uint32_t link = link_.load(std::memory_order_relaxed);
  if (offset == 0) {
    inbox_.abort();  // an earlier message never completed
    if (!inbox_.begin(kData, 0, link, topic, topicSize, static_cast<uint32_t>(total))) return;  // dropped, counted
  } else if (!inbox_.writing()) {
    return;  // the rest of a dropped message
  }
  inbox_.append(data, size);
  if (offset + size < total) return;
  inbox_.commit();
  session_.wake();
}

// ---- the network task ----

void MqttBridge::drain(MqttClientApi& client) {
  MessageQueue::Message m;
  while (outbox_.front(m)) {
    switch (m.kind) {
      case kConnect:
        attempt_.store(m.tag, std::memory_order_release);
        if (!client.connect(m.topic)) {
          notStarted_.store(m.tag, std::memory_order_release);
          session_.wake();
        }
        break;
      case kDisconnect: client.disconnect(); break;
      case kSubscribe: client.subscribe(m.topic, m.flags); break;
      default: client.enqueue(m.topic, m.data, m.size, m.flags); break;
    }
    outbox_.pop();
  }
}

}  // namespace teddy
