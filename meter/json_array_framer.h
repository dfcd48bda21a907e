#pragma once

#include <bit>
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
//
// The bytes are classified 64 at a time with bit masks, as simdjson's first stage does: which
// are quotes, backslashes and brackets, which are escaped, which lie inside strings; only the
// brackets outside strings are then visited one by one. A backslash escapes the next byte
// wherever it is (outside a string that is invalid JSON anyway), and every byte goes through
// the same masks, so the result does not depend on where the chunks end.
class JsonArrayFramer {
 public:
  static constexpr size_t kMaxObject = 32 * 1024 * 1024;

  template <class OnObject>
  void feed(std::string_view chunk, OnObject&& on_object) {
    size_t object_from = in_object_ ? 0 : std::string_view::npos;
    for (size_t block = 0; block < chunk.size(); block += 64) {
      const size_t len = chunk.size() - block < 64 ? chunk.size() - block : 64;
      uint64_t brackets = classify(chunk.data() + block, len);
      while (brackets != 0) {
        const size_t pos = block + static_cast<size_t>(std::countr_zero(brackets));
        brackets &= brackets - 1;
        const char c = chunk[pos];
        if (c == '{' || c == '[') {
          if (c == '{' && !in_object_ && depth_ <= 1 && (depth_ == 0 || top_is_array_)) {
            in_object_ = true;
            object_depth_ = depth_ + 1;
            object_from = pos;
          }
          if (depth_ == 0) top_is_array_ = c == '[';
          if (depth_ < kMaxDepth) ++depth_;
          continue;
        }
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
    }
    if (in_object_ && object_from != std::string_view::npos) keep(chunk.substr(object_from));
  }

  bool hasPartial() const { return in_object_; }
  // Bytes the framer holds (buffer capacity).
  size_t retainedBytes() const { return partial_.capacity(); }

 private:
  static constexpr uint32_t kMaxDepth = 1u << 20;

  // The brackets outside strings among `len` (<= 64) bytes, as a bit mask; carries the
  // string and escape state to the next bytes.
  uint64_t classify(const char* bytes, size_t len);

  void keep(std::string_view bytes);

  std::string partial_;
  uint32_t depth_ = 0;
  uint32_t object_depth_ = 0;
  bool top_is_array_ = false;
  bool in_object_ = false;
  uint64_t in_string_ = 0;  // all ones when the next byte lies inside a string
  uint64_t escaped_ = 0;    // 1 when the next byte is escaped
  bool dropping_ = false;
};

}  // namespace tollgate::meter
