// PLACEHOLDER until fw-core lands teddy/types.h
#pragma once
#include <array>
#include <cstdint>
namespace teddy {
using ClipId = std::array<uint8_t, 8>;
using Digest = std::array<uint8_t, 32>;
}
