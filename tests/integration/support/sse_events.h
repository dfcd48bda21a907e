#pragma once

#include <string>
#include <vector>

namespace tollgate::testing {

// One server-sent event as a client sees it.
struct SseEvent {
  std::string event;  // "" when the event names none
  std::string data;   // the data lines, joined
};

// Every whole event of an SSE body (lines end at LF or CRLF; an empty line dispatches). `whole`
// is set to false when the body ends inside an event.
std::vector<SseEvent> parseSse(const std::string& text, bool* whole = nullptr);

}  // namespace tollgate::testing
