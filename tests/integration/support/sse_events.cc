#include "tests/integration/support/sse_events.h"

namespace tollgate::testing {

std::vector<SseEvent> parseSse(const std::string& text, bool* whole) {
  std::vector<SseEvent> events;
  SseEvent current;
  bool open = false;
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = text.find('\n', i);
    if (end == std::string::npos) break;
    std::string line = text.substr(i, end - i);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    i = end + 1;
    if (line.empty()) {
      if (open) events.push_back(current);
      current = {};
      open = false;
    } else if (line.rfind("event: ", 0) == 0) {
      current.event = line.substr(7);
      open = true;
    } else if (line.rfind("data: ", 0) == 0) {
      current.data += line.substr(6);
      open = true;
    }
  }
  if (whole != nullptr) *whole = !open && i == text.size();
  return events;
}

}  // namespace tollgate::testing
