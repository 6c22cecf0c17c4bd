// PLACEHOLDER until fw-core lands teddy/sha256.h
#pragma once
#include <cstddef>
#include <cstdint>
#include "teddy/types.h"
namespace teddy {
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void update(const uint8_t* data, size_t size);
  Digest finish();
 private:
  alignas(8) uint8_t ctx_[128];
};
}
