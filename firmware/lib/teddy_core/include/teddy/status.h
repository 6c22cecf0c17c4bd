// Every error in the firmware core is a returned Status: no exceptions, no errno.
#pragma once

#include <cstdint>

namespace teddy {

enum class Status : uint8_t {
  Ok,
  Malformed,    // not well-formed (bytes that are not what they claim to be)
  Invalid,      // well-formed, but not what was expected (type, schema, argument)
  Unsupported,  // well-formed, but outside what this firmware handles
  TooLarge,     // does not fit a bound or a buffer
  NotFound,
  NoSpace,      // the flash budget cannot take it
  Corrupt,      // stored or downloaded bytes failed their check (SHA-256)
  IoError,      // the device, network or peer failed
  Timeout,
  Busy,         // not now: not connected, or every slot in use
};

/** A short lowercase name for logs and the host binary's JSON events. */
const char* statusName(Status status);

}  // namespace teddy
