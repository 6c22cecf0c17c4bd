#include "teddy/pending_requests.h"

namespace teddy {

uint32_t PendingRequests::nextId() {
  if (++lastId_ == 0) lastId_ = 1;  // 0 means "unknown" on the wire
  return lastId_;
}

PendingRequest* PendingRequests::open(uint32_t id, uint8_t type) {
  for (auto& r : slots_) {
    if (r.id != 0) continue;
    r = PendingRequest{};
    r.id = id;
    r.type = type;
    return &r;
  }
  return nullptr;
}

void PendingRequests::sent(PendingRequest& request, uint32_t nowMs) {
  ++request.sent;
  request.waiting = true;
  request.dueMs = nowMs + policy_.timeoutMs;
}

PendingRequest* PendingRequests::find(uint32_t id) {
  if (id == 0) return nullptr;
  for (auto& r : slots_)
    if (r.id == id) return &r;
  return nullptr;
}

size_t PendingRequests::inFlight() const {
  size_t n = 0;
  for (const auto& r : slots_) n += r.id != 0;
  return n;
}

}  // namespace teddy
