#pragma once

// A JSON answer kept whole up to a cap, and past it only as its first and last bytes: the
// memory a call's body costs the meter stays bounded however large the answer, and the usage,
// which providers write at the end (OpenAI, Anthropic, Gemini, Ollama) or near the start, is
// still read from what is kept (usageDocument).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace tollgate::meter {

// A member a dialect's usage lives in, and where to look for it in a partial body: the last
// occurrence in the tail (usage objects come last), or the first in the head ("type" of an
// Anthropic message comes first, before any content block's).
struct UsageMember {
  std::string_view name;
  bool from_head = false;
};

class BodyWindow {
 public:
  static constexpr size_t kMaxWhole = 32 * 1024 * 1024;
  static constexpr size_t kWindow = 1024 * 1024;

  // `max_whole`: the cap; tests lower it to split small oversized bodies at every byte.
  explicit BodyWindow(size_t max_whole = kMaxWhole) : max_whole_(max_whole) {}

  void append(std::string_view chunk);
  // The body fitted under the cap: text() is all of it. Else head() and tail() are its first
  // and last kWindow bytes (at most).
  bool whole() const { return !windowed_; }
  std::string_view text() const { return body_; }
  std::string_view head() const { return head_; }
  std::string_view tail() const;
  void release();
  size_t retainedBytes() const { return body_.capacity() + head_.capacity() + tail_.capacity(); }

  // A JSON object made of the `members` found in `head` / `tail` (each value whole and well
  // formed as the scanner reads it), for the dialect's reader to read as if it were the answer;
  // empty when none was found. A member inside a string is never taken: its quotes would be
  // escaped.
  static std::string usageDocument(std::string_view head, std::string_view tail,
                                   std::span<const UsageMember> members);

 private:
  size_t max_whole_;
  bool windowed_ = false;
  std::string body_;
  std::string head_;
  std::string tail_;  // the last bytes: at most 2 * kWindow, trimmed to kWindow when full
};

}  // namespace tollgate::meter
