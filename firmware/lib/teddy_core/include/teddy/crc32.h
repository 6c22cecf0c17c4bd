// CRC-32 (IEEE 802.3, as zlib) for the clip store's index records: cheap
// detection of a torn or half-erased index copy. Bitwise, no table: the index
// is checked once per boot and written once per change, so 1 KB of table
// would buy nothing.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teddy {

/** Continues a CRC: start with crc = 0. */
uint32_t crc32(uint32_t crc, const uint8_t* data, size_t size);

}  // namespace teddy
