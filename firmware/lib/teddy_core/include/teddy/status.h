// PLACEHOLDER until fw-core lands teddy/status.h
#pragma once
#include <cstdint>
namespace teddy {
enum class Status : uint8_t { Ok, Malformed, TooLarge, Unsupported, Invalid, NotFound, NoSpace, Corrupt, IoError, Timeout, Busy };
}
