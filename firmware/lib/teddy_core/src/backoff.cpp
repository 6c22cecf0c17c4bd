#include "teddy/backoff.h"

namespace teddy {

uint32_t Backoff::ceilingMs(uint32_t attempt) const {
  // base * 2^attempt without overflow: stop doubling once the cap is reached.
  uint64_t ceiling = baseMs;
  for (uint32_t i = 0; i < attempt && ceiling < capMs; ++i) ceiling *= 2;
  return ceiling < capMs ? static_cast<uint32_t>(ceiling) : capMs;
}

uint32_t Backoff::delayMs(uint32_t attempt, Random& random) const {
  const uint64_t span = uint64_t{ceilingMs(attempt)} + 1;
  return static_cast<uint32_t>(random.next() % span);
}

}  // namespace teddy
