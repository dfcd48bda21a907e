#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tollgate::gateway {

// Where the relayed bytes of a JSON-array stream (Gemini's streamGenerateContent without
// alt=sse: "[" obj "," obj ... "]") stand: between elements of the top-level array or inside
// one, and whether a "," must precede a new element. Strings (the answer's text, most of the
// stream) are crossed with memchr from quote to quote; the bytes between them one at a time; no
// bytes kept. Pure.
class JsonArrayPosition {
 public:
  void relayed(std::string_view bytes);
  // Nothing but whitespace relayed yet, or between two elements of the array (or after it).
  bool atBoundary() const;
  // The length of `next` up to its last boundary; nullopt when it reaches none.
  std::optional<size_t> boundaryIn(std::string_view next) const;

  bool opened() const { return opened_; }  // the "[" was relayed
  bool closed() const { return closed_; }  // the "]" was relayed: the array is complete
  // An element ended and no "," followed it yet.
  bool needsSeparator() const { return element_ended_; }

 private:
  void step(char c);

  uint32_t depth_ = 0;
  bool opened_ = false;
  bool closed_ = false;
  bool in_string_ = false;
  bool escaped_ = false;
  bool element_ended_ = false;
};

}  // namespace tollgate::gateway
