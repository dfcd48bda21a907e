// Loader: events.open_calls (the open-call journal that books calls a dead gateway was in).
#include "config/loader.h"

namespace tollgate::config {

void Loader::loadOpenCalls(const YAML::Node& node, OpenCallsConfig& open_calls) {
  if (!checkSection(node, "events.open_calls",
                    {"enabled", "after_ms", "refresh_ms", "fsync", "dir"})) {
    return;
  }
  if (auto n = child(node, "enabled")) {
    if (auto v = boolean(*n, "events.open_calls.enabled")) open_calls.enabled = *v;
  }
  // Below 100 ms every call would be journaled, which is what the threshold exists to avoid.
  if (auto n = child(node, "after_ms")) {
    if (auto v = integer(*n, "events.open_calls.after_ms", 100, 3600000,
                         "an integer of milliseconds from 100 to 3600000")) {
      open_calls.after = std::chrono::milliseconds(static_cast<int64_t>(*v));
    }
  }
  if (auto n = child(node, "refresh_ms")) {
    if (auto v = integer(*n, "events.open_calls.refresh_ms", 100, 600000,
                         "an integer of milliseconds from 100 to 600000")) {
      open_calls.refresh = std::chrono::milliseconds(static_cast<int64_t>(*v));
    }
  }
  if (auto n = child(node, "fsync")) {
    if (auto v = boolean(*n, "events.open_calls.fsync")) open_calls.fsync = *v;
  }
  if (auto n = child(node, "dir")) {
    if (auto text = nonEmptyString(*n, "events.open_calls.dir")) open_calls.dir = *text;
  }
}

}  // namespace tollgate::config
