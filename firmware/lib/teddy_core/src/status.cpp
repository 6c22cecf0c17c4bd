#include "teddy/status.h"

namespace teddy {

const char* statusName(Status status) {
  switch (status) {
    case Status::Ok: return "ok";
    case Status::Malformed: return "malformed";
    case Status::Invalid: return "invalid";
    case Status::Unsupported: return "unsupported";
    case Status::TooLarge: return "tooLarge";
    case Status::NotFound: return "notFound";
    case Status::NoSpace: return "noSpace";
    case Status::Corrupt: return "corrupt";
    case Status::IoError: return "ioError";
    case Status::Timeout: return "timeout";
    case Status::Busy: return "busy";
  }
  return "unknown";
}

}  // namespace teddy
