// The bear's protocol session (docs/protocol.md, "Flows"): connect, hello,
// request/response correlation with retries, warm manifests, downloads, the
// play path and periodic stats.
//
// One explicit state machine, driven by three inputs: tick(now) for time,
// the MqttEvents callbacks for the network, and say()/play() for the child.
// All on one thread; nothing allocates; clock and RNG are injected (tick's
// argument and a Random), so tests can run hours of retries in microseconds.
//
//   Disconnected --connect()--> Connecting --CONNACK--> HelloSent --welcome--> Ready
//        ^  (reconnect after full-jitter backoff)  |  connection lost / timeout   |
//        +-----------------------------------------+------------------------------+
#pragma once

#include <cstddef>
#include <cstdint>

#include "teddy/backoff.h"
#include "teddy/flash_cache.h"
#include "teddy/http_client.h"
#include "teddy/mqtt_transport.h"
#include "teddy/pending_requests.h"
#include "teddy/protocol.h"
#include "teddy/sha256.h"
#include "teddy/status.h"

namespace teddy {

enum class SessionState : uint8_t { Disconnected, Connecting, HelloSent, Ready };

enum class PlaySource : uint8_t { Flash, Inline, Download };

struct SessionConfig {
  const char* deviceId = "";          // 1..64 of [A-Za-z0-9_-]
  // Gateway URLs, tried in turn: a failed connect or a lost connection moves to the next one.
  const char* const* gateways = nullptr;
  uint8_t gatewayCount = 0;
  const char* firmwareVersion = "";   // <= 32 bytes
  uint32_t flashBudget = 0;           // announced in hello
  RetryPolicy requests{5000, 4, {500, 8000}};
  Backoff reconnect{500, 30000};
  uint32_t connectTimeoutMs = 10000;  // CONNECT to CONNACK
  uint32_t statsIntervalMs = 60000;
  uint32_t maxInlineBytes = 4096;     // clipGet: clips up to this size come inline
  uint8_t downloadAttempts = 4;       // per chunk, with backoff between
  // Caller-owned buffers (the only sizeable RAM the session uses besides its request table).
  uint8_t* manifestBuffer = nullptr;  // holds the warm manifest being applied
  size_t manifestCapacity = 0;
  uint8_t* chunkBuffer = nullptr;     // one flash read (downloads land in the HttpClient's buffer)
  size_t chunkCapacity = 0;
};

/** What the session tells the application (the bear's UI, speaker and logs). */
class SessionListener {
 public:
  virtual void onReady() = 0;
  virtual void onWarmApplied(const protocol::WarmAck& ack) = 0;
  virtual void onAnswer(const protocol::Answer& answer) = 0;
  /** A clip played (its bytes went to the speaker); `bytes` of it were read. */
  virtual void onPlay(const ClipId& clip, PlaySource from, uint32_t bytes) = 0;
  /** Something failed; `what` names the step, `code` is the gateway's ErrorCode or 0. */
  virtual void onError(const char* what, Status status, uint8_t code) = 0;
  /** Plain bytes of a clip for the speaker (inline, streamed or read from flash). */
  virtual void onAudio(const uint8_t* data, size_t size) = 0;

 protected:
  ~SessionListener() = default;
};

class Session final : public MqttEvents {
 public:
  Session(const SessionConfig& config, MqttTransport& mqtt, HttpClient& http, FlashCache& flash, Random& random,
          SessionListener& listener);

  /** Call often (every few ms to 100 ms): reconnects, retries, downloads one chunk, publishes stats. */
  void tick(uint32_t nowMs);

  /** Sends an utterance (format 2 = UTF-8 text); the answer arrives through the listener. Busy unless Ready. */
  Status say(const char* text, size_t size);
  /** Plays a clip: from flash if held (works offline), else asks the gateway. */
  Status play(const ClipId& clip);
  /** Publishes a stats event now (also done every statsIntervalMs while Ready). */
  Status publishStats();
  protocol::Stats stats();

  SessionState state() const { return state_; }
  /** The gateway URL in use (or tried next). */
  const char* gateway() const { return cfg_.gatewayCount ? cfg_.gateways[gateway_] : ""; }
  size_t requestsInFlight() const { return requests_.inFlight(); }

  // MqttEvents
  void onConnected() override;
  void onDisconnected() override;
  void onMessage(const char* topic, const uint8_t* payload, size_t size) override;

 private:
  /** A clip being fetched over HTTP, into flash or straight to the speaker. */
  struct Download {
    bool active = false;
    bool toFlash = false;
    bool forPlay = false;  // play it when done
    bool reopen = false;   // its flash write was paused for another; begin() again before the next chunk
    ClipHeader clip;
    cbor::Text url;  // the play download's: playUrl_; the warm download's: in the manifest buffer
    uint32_t offset = 0;
    uint8_t failures = 0;
    uint32_t retryAtMs = 0;
    uint32_t serial = 0;  // tells a range in flight for an abandoned download from one for this one
  };
  /** The warm manifest being applied, clip by clip in priority order. */
  struct WarmJob {
    bool active = false;
    uint32_t seq = 0;
    protocol::ClipList clips;
    protocol::ClipCursor cursor;
    uint16_t next = 0;  // index of the next clip to look at
    protocol::WarmAck ack;
  };

  protocol::Message& compose(protocol::MessageType type);
  void connect();
  void scheduleReconnect();
  void connectionLost();
  Status sendRequest(protocol::Message& request);
  void resend(PendingRequest& request);
  void expired(const PendingRequest& request);
  void handleResponse(const uint8_t* payload, size_t size);
  void handleWarm(const uint8_t* payload, size_t size);
  void advanceWarm();
  void finishWarm();
  void playClip(const protocol::ClipRef& clip);
  void playInline(const protocol::ClipRef& clip);
  Status startDownload(Download& d, const protocol::ClipRef& clip, bool toFlash, bool onDemand, bool forPlay);
  void stepDownload(Download& d);
  /** Polls the range in flight; true while it still is (no other range may start). */
  bool pollRange();
  void onChunk(Download& d, Status s, const uint8_t* data, size_t got);
  /** The store writes one clip at a time: a play that needs flash pauses the warm download's write. */
  void yieldFlashWrite();
  void finishDownload(Download& d, Status result);
  /** Plays a clip from flash and counts the hit; false (a miss) if not held or failing its check. */
  bool playHeld(const ClipId& clip);
  Status playFromFlash(const ClipId& clip, PlaySource from);
  bool isTopic(const char* topic, const char* suffix) const;
  void topic(char* out, const char* suffix) const;

  SessionConfig cfg_;
  MqttTransport& mqtt_;
  HttpClient& http_;
  FlashCache& flash_;
  Random& random_;
  SessionListener& listener_;

  SessionState state_ = SessionState::Disconnected;
  uint32_t now_ = 0;
  uint32_t bootMs_ = 0;
  bool started_ = false;
  uint32_t reconnectAtMs_ = 0;
  uint32_t reconnectAttempt_ = 0;
  uint32_t connectDeadlineMs_ = 0;
  uint32_t helloId_ = 0;
  uint8_t gateway_ = 0;
  uint32_t serials_ = 0;
  Download* rangeFor_ = nullptr;  // the download whose range is in flight
  uint32_t rangeSerial_ = 0;
  uint32_t nextStatsMs_ = 0;
  uint32_t flashHits_ = 0;
  uint32_t flashMisses_ = 0;

  PendingRequests requests_;
  WarmJob warm_;
  Download playDownload_;
  Download warmDownload_;
  char playUrl_[protocol::kMaxUrlBytes];  // the answer that named it is gone by the next tick
  Sha256 streamSha_;  // only the play download streams (not stored clips are verified as they pass)
  protocol::Message message_;  // decode scratch and the message being composed, kept off the stack
};

}  // namespace teddy
