// Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff
// and Jitter"): the n-th retry waits uniform in [0, min(cap, base * 2^n)].
// Jitter spreads a fleet of bears that lost the gateway at the same moment.
#pragma once

#include <cstdint>

namespace teddy {

/** A random source the caller injects (hardware RNG on the device, a seeded one in tests). */
class Random {
 public:
  virtual uint32_t next() = 0;

 protected:
  ~Random() = default;
};

struct Backoff {
  uint32_t baseMs;
  uint32_t capMs;

  /** The largest delay before retry number `attempt` (0 = first retry). */
  uint32_t ceilingMs(uint32_t attempt) const;
  /** A delay uniform in [0, ceilingMs(attempt)]. */
  uint32_t delayMs(uint32_t attempt, Random& random) const;
};

}  // namespace teddy
