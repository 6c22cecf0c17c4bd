// Request/response correlation: requests in flight, numbered by a 32-bit
// counter that is never 0, each with its own timeout and retry schedule
// (full-jitter exponential backoff). A request keeps its id across retries,
// so an answer to any attempt completes it; once it has given up, its id is
// forgotten and a late answer finds nothing (the caller ignores it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "teddy/backoff.h"
#include "teddy/status.h"

namespace teddy {

/** Requests in flight at once: hello (only before Ready), an utterance and a clip lookup. */
constexpr size_t kMaxPendingRequests = 3;
/** Encoded request kept for retransmission; bounds an utterance the bear sends. */
constexpr size_t kMaxRequestBytes = 512;

struct RetryPolicy {
  uint32_t timeoutMs;  // wait for an answer this long per attempt
  uint8_t attempts;    // total sends, first included
  Backoff backoff;     // pause between a timeout and the next send
};

struct PendingRequest {
  uint32_t id = 0;  // 0 = free slot
  uint8_t type = 0;  // protocol::MessageType of the request
  uint8_t sent = 0;  // attempts so far
  bool waiting = false;  // true: until dueMs for an answer; false: backing off until dueMs
  uint32_t dueMs = 0;
  uint16_t size = 0;
  std::array<uint8_t, kMaxRequestBytes> payload{};
};

class PendingRequests {
 public:
  explicit PendingRequests(const RetryPolicy& policy) : policy_(policy) {}

  /** The next correlation id: counting up, wrapping past 2^32-1 back to 1. */
  uint32_t nextId();
  /**
   * Continues numbering after `id`. The session starts at a random point at
   * boot, so an answer addressed to the previous boot's requests matches nothing.
   */
  void startAfter(uint32_t id) { lastId_ = id; }
  /** A free slot for a new request (its id set), or nullptr (Busy) when all are in flight. */
  PendingRequest* open(uint32_t id, uint8_t type);
  /** Marks a slot as just sent at nowMs. */
  void sent(PendingRequest& request, uint32_t nowMs);
  /** The request in flight with this id, or nullptr (a late or unknown answer). */
  PendingRequest* find(uint32_t id);
  /** Frees a request's slot: answered, or given up by its owner. */
  void close(PendingRequest& request) { request.id = 0; }

  /**
   * Advances timers. For each request due for a resend, calls resend(request)
   * (which publishes it and calls sent()); for each request out of attempts,
   * calls expired(request) and frees it.
   */
  template <typename Resend, typename Expired>
  void tick(uint32_t nowMs, Random& random, Resend&& resend, Expired&& expired) {
    for (auto& r : slots_) {
      if (r.id == 0 || !due(r.dueMs, nowMs)) continue;
      if (!r.waiting) {
        resend(r);
        continue;
      }
      if (r.sent >= policy_.attempts) {
        expired(static_cast<const PendingRequest&>(r));
        r.id = 0;
        continue;
      }
      r.waiting = false;
      r.dueMs = nowMs + policy_.backoff.delayMs(r.sent - 1u, random);
    }
  }

  /**
   * After a reconnect: calls resend(request) (which publishes it and calls
   * sent()) for every request in flight, each keeping its id and left with at
   * least this one attempt.
   */
  template <typename Resend>
  void resendAll(Resend&& resend) {
    for (auto& r : slots_) {
      if (r.id == 0) continue;
      if (r.sent >= policy_.attempts) r.sent = static_cast<uint8_t>(policy_.attempts - 1);
      resend(r);
    }
  }

  size_t inFlight() const;

 private:
  // Wrap-safe "now has reached due" for a 32-bit millisecond clock.
  static bool due(uint32_t dueMs, uint32_t nowMs) { return static_cast<int32_t>(nowMs - dueMs) >= 0; }

  RetryPolicy policy_;
  uint32_t lastId_ = 0;
  std::array<PendingRequest, kMaxPendingRequests> slots_{};
};

}  // namespace teddy
