#include "gateway/proxy/json_array_position.h"

#include <cstring>

namespace tollgate::gateway {

void JsonArrayPosition::step(char c) {
  if (in_string_) {
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
    }
    return;
  }
  switch (c) {
    case '"':
      in_string_ = true;
      break;
    case '[':
    case '{':
      if (depth_ == 0) opened_ = true;
      if (depth_ == 1) element_ended_ = false;
      ++depth_;
      break;
    case ']':
    case '}':
      if (depth_ == 0) break;
      --depth_;
      if (depth_ == 1) element_ended_ = true;
      if (depth_ == 0) closed_ = true;
      break;
    case ',':
      if (depth_ == 1) element_ended_ = false;
      break;
    default:
      break;
  }
}

void JsonArrayPosition::relayed(std::string_view bytes) {
  // Most of the stream is string content (the answer's text): jump from quote to quote with
  // memchr, and decide whether a quote is escaped by the backslashes right before it.
  const char* const data = bytes.data();
  size_t at = 0;
  while (at < bytes.size()) {
    if (!in_string_) {
      step(data[at++]);
      continue;
    }
    if (escaped_) {
      escaped_ = false;
      ++at;
      continue;
    }
    const void* found = std::memchr(data + at, '"', bytes.size() - at);
    const size_t end = found == nullptr ? bytes.size() : static_cast<const char*>(found) - data;
    size_t backslashes = 0;
    while (end - backslashes > at && data[end - backslashes - 1] == '\\') ++backslashes;
    if (found == nullptr) {
      escaped_ = backslashes % 2 == 1;
      return;
    }
    if (backslashes % 2 == 0) in_string_ = false;
    at = end + 1;
  }
}

bool JsonArrayPosition::atBoundary() const {
  // A scalar element (never in Gemini's stream) would look like a boundary too: the gateway
  // ends streams of objects only.
  return !in_string_ && (depth_ == 0 ? !opened_ || closed_ : depth_ == 1);
}

std::optional<size_t> JsonArrayPosition::boundaryIn(std::string_view next) const {
  JsonArrayPosition walk = *this;
  std::optional<size_t> last;
  for (size_t i = 0; i < next.size(); ++i) {
    walk.step(next[i]);
    if (walk.atBoundary()) last = i + 1;
  }
  return last;
}

}  // namespace tollgate::gateway
