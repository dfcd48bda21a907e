#include "gateway/proxy/json_array_position.h"

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
  for (const char c : bytes) step(c);
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
