#include "queue/bounded_queue.h"

namespace hft::queue {

std::string_view to_string(PushResult result) {
  switch (result) {
    case PushResult::kOk:
      return "ok";
    case PushResult::kFull:
      return "full";
    case PushResult::kClosed:
      return "closed";
  }
  return "unknown";
}

}  // namespace hft::queue
