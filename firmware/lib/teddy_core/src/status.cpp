#include "teddy/status.h"

namespace teddy {

namespace {
// In Status order (a table: smaller on the device than a switch built without jump tables).
constexpr const char* kNames[] = {"ok",      "malformed", "invalid", "unsupported", "tooLarge", "notFound",
                                  "noSpace", "corrupt",   "ioError", "timeout",     "busy"};
static_assert(sizeof kNames / sizeof *kNames == static_cast<unsigned>(Status::Busy) + 1, "a name per Status");
}  // namespace

const char* statusName(Status status) {
  const auto i = static_cast<unsigned>(status);
  return i < sizeof kNames / sizeof *kNames ? kNames[i] : "unknown";
}

}  // namespace teddy
