#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Incremental splitter for a JSON document streamed piecewise, as Gemini's
// streamGenerateContent writes it without alt=sse: "[" obj ",\r\n" obj ... "]". Every object that
// is an element of the top-level array, or is itself the top-level value, is handed to the
// callback exactly once, as soon as its closing brace arrives, whatever the chunk boundaries.
// Strings (with their escapes) are skipped so that braces inside them do not count. An object
// longer than kMaxObject is dropped whole. The input is not validated beyond that: the JSON
// parser that reads each object does.
class JsonArrayFramer {
 public:
  static constexpr size_t kMaxObject = 32 * 1024 * 1024;

  template <class OnObject>
  void feed(std::string_view chunk, OnObject&& on_object) {
    size_t pos = 0;
    size_t object_from = in_object_ ? 0 : std::string_view::npos;
    while (pos < chunk.size()) {
      if (in_string_) {
        pos = skipString(chunk, pos);
        continue;
      }
      const char c = chunk[pos];
      if (c == '"') {
        in_string_ = true;
        ++pos;
        continue;
      }
      if (c == '{' || c == '[') {
        if (c == '{' && !in_object_ && depth_ <= 1 && (depth_ == 0 || top_is_array_)) {
          in_object_ = true;
          object_depth_ = depth_ + 1;
          object_from = pos;
        }
        if (depth_ == 0) top_is_array_ = c == '[';
        if (depth_ < kMaxDepth) ++depth_;
      } else if (c == '}' || c == ']') {
        if (depth_ > 0) --depth_;
        if (in_object_ && c == '}' && depth_ + 1 == object_depth_) {
          const std::string_view tail = chunk.substr(object_from, pos + 1 - object_from);
          if (partial_.empty() && !dropping_) {
            on_object(tail);
          } else {
            keep(tail);
            if (!dropping_) on_object(std::string_view(partial_));
          }
          partial_.clear();
          dropping_ = false;
          in_object_ = false;
          object_from = std::string_view::npos;
        }
      }
      ++pos;
    }
    if (in_object_ && object_from != std::string_view::npos) keep(chunk.substr(object_from));
  }

  bool hasPartial() const { return in_object_; }

 private:
  static constexpr uint32_t kMaxDepth = 1u << 20;

  // Advances past string bytes; leaves in_string_ set when the chunk ends inside the string.
  size_t skipString(std::string_view chunk, size_t pos) {
    while (pos < chunk.size()) {
      const char c = chunk[pos];
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
        return pos + 1;
      }
      ++pos;
    }
    return pos;
  }

  void keep(std::string_view bytes);

  std::string partial_;
  uint32_t depth_ = 0;
  uint32_t object_depth_ = 0;
  bool top_is_array_ = false;
  bool in_object_ = false;
  bool in_string_ = false;
  bool escaped_ = false;
  bool dropping_ = false;
};

}  // namespace tollgate::meter
