// The MQTT bridge both ports use (ports/common/mqtt_bridge.h) under esp-mqtt's
// locking rule, with a double of the client: its own task delivers events
// while holding the client's API lock, and connect/subscribe/enqueue take that
// lock (mqtt_client.c: esp_mqtt_task, esp_mqtt_client_enqueue). Each test
// makes one side hold the lock while it waits for the other: if the session's
// task ever called into the client, or the event handler ever waited for the
// session's task, the test would deadlock (ctest's TIMEOUT fails it).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "message_queue.h"
#include "mqtt_bridge.h"
#include "session_rig.h"

using namespace teddy;

namespace {

/** A Wakeup a thread can wait on. */
struct Signal final : Wakeup {
  std::mutex m;
  std::condition_variable cv;
  bool raised = false;
  void wake() override {
    std::lock_guard<std::mutex> lock(m);
    raised = true;
    cv.notify_all();
  }
  void wait(int ms) {
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return raised; });
    raised = false;
  }
};

/** esp-mqtt's rule, without a network: a client task that runs jobs under the API lock. */
struct LockingClient final : MqttClientApi {
  std::recursive_mutex api;
  std::vector<std::string> calls;  // what the network task asked, in order
  std::vector<std::thread::id> callers;
  std::mutex jobsMutex;
  std::condition_variable jobsCv;
  std::vector<std::function<void()>> jobs;
  bool running = true;
  std::thread task{[this] { run(); }};

  ~LockingClient() {
    {
      std::lock_guard<std::mutex> lock(jobsMutex);
      running = false;
    }
    jobsCv.notify_all();
    task.join();
  }
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(jobsMutex);
        jobsCv.wait(lock, [this] { return !jobs.empty() || !running; });
        if (jobs.empty()) return;
        job = jobs.front();
        jobs.erase(jobs.begin());
      }
      std::lock_guard<std::recursive_mutex> held(api);  // as esp_mqtt_task around its state machine
      job();
    }
  }
  /** Runs `job` on the client's task with the API lock held; returns at once. */
  void underLock(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(jobsMutex);
      jobs.push_back(std::move(job));
    }
    jobsCv.notify_all();
  }
  void record(const std::string& call) {
    std::lock_guard<std::recursive_mutex> held(api);  // every esp-mqtt call here takes the lock
    calls.push_back(call);
    callers.push_back(std::this_thread::get_id());
  }
  bool connect(const char* url) override { return record(std::string("connect ") + url), true; }
  void disconnect() override {}  // esp_mqtt_client_disconnect only sets a bit
  bool subscribe(const char* topic, uint8_t) override { return record(std::string("subscribe ") + topic), true; }
  bool enqueue(const char* topic, const uint8_t*, size_t, uint8_t) override {
    return record(std::string("enqueue ") + topic), true;
  }
};

/** A latch the client's task waits on while holding its lock. */
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void release() {
    std::lock_guard<std::mutex> lock(m);
    open = true;
    cv.notify_all();
  }
  void await() {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [this] { return open; });
  }
};

struct BridgeRig {
  alignas(4) uint8_t inboxBytes[4096];
  alignas(4) uint8_t outboxBytes[4096];
  MessageQueue inbox{inboxBytes, sizeof inboxBytes};
  MessageQueue outbox{outboxBytes, sizeof outboxBytes};
  Signal networkWake, sessionWake;
  MqttBridge bridge{inbox, outbox, networkWake, sessionWake};
  LockingClient client;
  bool networkRunning = true;
  std::thread network{[this] {
    while (networkRunning) {
      bridge.drain(client);
      networkWake.wait(20);
    }
  }};
  ~BridgeRig() {
    networkRunning = false;
    networkWake.wake();
    network.join();
  }
};

struct Recorder final : MqttEvents {
  std::vector<std::string> seen;
  void onConnected() override { seen.emplace_back("connected"); }
  void onDisconnected() override { seen.emplace_back("disconnected"); }
  void onMessage(const char* topic, const uint8_t* p, size_t n) override {
    seen.push_back(std::string(topic) + " " + std::string(reinterpret_cast<const char*>(p), n));
  }
};

}  // namespace

TEST_CASE("the session's task runs while the client holds its lock (a connect in progress), and never calls the client") {
  BridgeRig r;
  rig::Rig s;  // a real Session, its MQTT port replaced by the bridge below
  const char* gateways[] = {"mqtts://gateway-a:8883"};
  SessionConfig cfg = s.config();
  cfg.gateways = gateways;
  Session session(cfg, r.bridge, s.http, s.flash, s.random, s.listener);

  // The client's task takes its lock for a connect attempt and keeps it until the session's task has run.
  Gate sessionRan;
  r.client.underLock([&] { sessionRan.await(); });
  for (int i = 0; i < 20; ++i) {
    session.tick(1000 + i);  // asks for the connect
    r.bridge.deliver(session);
    CHECK(session.say("x", 1) == Status::Busy);  // not connected: refused at once, not queued behind the lock
    CHECK(session.publishStats() == Status::Busy);
  }
  sessionRan.release();  // (had any of the calls above waited on the lock, this line would never run)

  // Connected, delivered under the lock: the session subscribes and sends hello through the network task.
  r.client.underLock([&] { r.bridge.clientConnected(); });
  for (int i = 0; i < 200 && r.client.calls.size() < 4; ++i) {
    r.sessionWake.wait(10);
    r.bridge.deliver(session);
    session.tick(2000 + i);
  }
  std::lock_guard<std::recursive_mutex> held(r.client.api);
  REQUIRE(r.client.calls.size() == 4);
  CHECK(r.client.calls[0] == "connect mqtts://gateway-a:8883");
  CHECK(r.client.calls[1] == "subscribe teddy/v1/bear-1/res");
  CHECK(r.client.calls[2] == "subscribe teddy/v1/bear-1/warm");
  CHECK(r.client.calls[3] == "enqueue teddy/v1/bear-1/req");
  for (const auto& id : r.client.callers) CHECK((id != std::this_thread::get_id()));
  CHECK(session.state() == SessionState::HelloSent);
}

TEST_CASE("the event handler never waits: a flood under the lock is copied while room lasts, the rest dropped and counted") {
  BridgeRig r;
  Recorder events;
  r.client.underLock([&] { r.bridge.clientConnected(); });
  // The session's task does not consume while the client's task delivers 500 messages holding its lock.
  Gate flooded;
  const std::string body(200, 'm');
  r.client.underLock([&] {
    for (int i = 0; i < 500; ++i) {
      const std::string payload = std::to_string(i) + body;
      r.bridge.clientData("t", 1, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), 0, payload.size());
    }
    flooded.release();
  });
  flooded.await();  // (a handler that waited for room would wait for this thread: a deadlock)
  r.bridge.deliver(events);
  REQUIRE(events.seen.size() > 2);
  CHECK(events.seen.front() == "connected");
  const size_t delivered = events.seen.size() - 1;
  CHECK(r.bridge.inboxDropped() == 500 - delivered);
  for (size_t i = 0; i < delivered; ++i) CHECK(events.seen[i + 1] == "t " + std::to_string(i) + body);

  // Room again once delivered: the next message gets through.
  Gate more;
  r.client.underLock([&] {
    r.bridge.clientData("t", 1, reinterpret_cast<const uint8_t*>("next"), 4, 0, 4);
    more.release();
  });
  more.await();
  r.bridge.deliver(events);
  CHECK(events.seen.back() == "t next");
}

TEST_CASE("a message cut off mid-delivery gives its room back; link changes are never dropped and arrive in order") {
  // (3000 + 3000 bytes do not fit the 4 KiB inbox: the second message arrives only if the first gave its room back.)
  BridgeRig r;
  Recorder events;
  Gate done;
  r.client.underLock([&] {
    r.bridge.clientConnected();
    const uint8_t part[1000] = {};
    r.bridge.clientData("t", 1, part, sizeof part, 0, 3000);  // 1 of 3 fragments...
    r.bridge.clientData("t", 1, part, sizeof part, 1000, 3000);
    r.bridge.clientDisconnected();  // ...then the connection dies (esp-mqtt's read timeout)
    r.bridge.clientConnected();
    for (int i = 0; i < 3; ++i) r.bridge.clientData("t", 1, part, sizeof part, 1000 * i, 3000);  // whole this time
    done.release();
  });
  done.await();
  r.bridge.deliver(events);
  // The first connection came and went before the session looked: it sees the second one only.
  REQUIRE(events.seen.size() == 2);
  CHECK(events.seen[0] == "connected");
  CHECK(events.seen[1].size() == 2 + 3000);
  CHECK(r.bridge.inboxDropped() == 0);

  // The session sees each change once it looks between them, in order, data in between.
  Gate again;
  r.client.underLock([&] {
    r.bridge.clientData("t", 1, reinterpret_cast<const uint8_t*>("last"), 4, 0, 4);
    r.bridge.clientDisconnected();
    again.release();
  });
  again.await();
  r.bridge.deliver(events);
  CHECK(events.seen == std::vector<std::string>{"connected", events.seen[1], "t last", "disconnected"});
}

TEST_CASE("a connect that fails before it is up ends only the attempt it belongs to") {
  BridgeRig r;
  Recorder events;
  REQUIRE(r.bridge.connect("mqtt://a:1883") == Status::Ok);
  for (int i = 0; i < 100 && r.client.calls.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Gate refused;
  r.client.underLock([&] {
    r.bridge.clientDisconnected();  // refused: never up
    refused.release();
  });
  refused.await();
  r.bridge.deliver(events);
  CHECK(events.seen == std::vector<std::string>{"disconnected"});
  r.bridge.deliver(events);
  CHECK(events.seen.size() == 1);  // reported once
}

TEST_CASE("message queue: wraps, never overlaps, keeps order, and counts what it refuses") {
  alignas(4) uint8_t storage[256];
  MessageQueue q(storage, sizeof storage);
  uint32_t next = 0, expect = 0;
  for (int round = 0; round < 2000; ++round) {
    const uint32_t size = (round * 37) % 90;
    std::vector<uint8_t> bytes(size, static_cast<uint8_t>(next));
    if (q.push(1, 0, next, "x", 1, bytes.data(), size)) ++next;
    if (round % 3 != 0) {
      MessageQueue::Message m;
      while (q.front(m)) {
        REQUIRE(m.tag == expect);
        for (uint32_t i = 0; i < m.size; ++i) REQUIRE(m.data[i] == static_cast<uint8_t>(expect));
        q.pop();
        ++expect;
      }
    }
  }
  CHECK(next > 1000);
  CHECK(q.dropped() == 2000 - next);
  CHECK_FALSE(q.push(1, 0, 0, "x", 1, storage, 300));  // larger than the whole queue
}
