#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Incremental NDJSON (newline-delimited JSON) splitter: feed a stream in chunks split anywhere;
// each non-blank line is handed to the callback exactly once, in order, without its "\n" (or
// "\r\n"). Views are valid only during the callback. A line longer than kMaxLine is dropped
// whole (counted in droppedLines()) so that memory stays bounded on any input.
class NdjsonFramer {
 public:
  static constexpr size_t kMaxLine = 32 * 1024 * 1024;

  template <class OnLine>
  void feed(std::string_view chunk, OnLine&& on_line) {
    offset_ += chunk.size();
    size_t pos = 0;
    while (pos < chunk.size()) {
      const void* hit = std::char_traits<char>::find(chunk.data() + pos, chunk.size() - pos, '\n');
      if (hit == nullptr) {
        keep(chunk.substr(pos));
        return;
      }
      const size_t eol = static_cast<size_t>(static_cast<const char*>(hit) - chunk.data());
      if (partial_.empty() && !dropping_) {
        emit(chunk.substr(pos, eol - pos), on_line);
      } else {
        keep(chunk.substr(pos, eol - pos));
        if (!dropping_) emit(partial_, on_line);
        partial_.clear();
        dropping_ = false;
      }
      pos = eol + 1;
    }
  }

  // The stream ended: a last line without its "\n" is handed over too (a complete JSON object
  // the upstream wrote is one the client could read).
  template <class OnLine>
  void finish(OnLine&& on_line) {
    if (!dropping_ && !partial_.empty()) emit(partial_, on_line);
    partial_.clear();
    dropping_ = false;
  }

  size_t offset() const { return offset_; }
  size_t droppedLines() const { return dropped_; }
  bool hasPartial() const { return dropping_ || !partial_.empty(); }
  // Bytes the framer holds (buffer capacity).
  size_t retainedBytes() const { return partial_.capacity(); }

 private:
  template <class OnLine>
  static void emit(std::string_view line, OnLine& on_line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line) {
      if (c != ' ' && c != '\t' && c != '\r') {
        on_line(line);
        return;
      }
    }
  }

  void keep(std::string_view bytes);

  std::string partial_;
  bool dropping_ = false;
  size_t dropped_ = 0;
  size_t offset_ = 0;
};

}  // namespace tollgate::meter
