#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tollgate::meter {

// Where generated text lies in a non-streamed answer: member names separated by '/', "*" for
// every element of an array ("choices/*/message/content").
struct TextPath {
  std::string_view path;
  // The value's JSON text counts (tool call input given as an object), not a string's bytes.
  bool raw_json = false;
};

// The generated-text bytes a client received in a non-streamed answer cut short: the unescaped
// UTF-8 bytes of the strings at `paths` (of a string cut in its middle, the bytes before the
// cut) plus the JSON text of the raw_json paths, as far as the body goes. nullopt when the body
// is not the beginning of a JSON document. Reading stops at a value nested deeper than
// kMaxVisibleTextDepth levels: what lies there and after it is not counted.
inline constexpr int kMaxVisibleTextDepth = 64;
std::optional<int64_t> visibleTextBytes(std::string_view body, std::span<const TextPath> paths);

}  // namespace tollgate::meter
