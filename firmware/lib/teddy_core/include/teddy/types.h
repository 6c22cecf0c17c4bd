// Names shared across the firmware.
#pragma once

#include <array>
#include <cstdint>

namespace teddy {

/** A clip id: the first 8 bytes of the SDK's voice-synthesis digest ("this line in this voice"). */
using ClipId = std::array<uint8_t, 8>;
/** A SHA-256 digest: names a clip's bytes. */
using Digest = std::array<uint8_t, 32>;

}  // namespace teddy
