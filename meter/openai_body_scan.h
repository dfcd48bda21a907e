#pragma once

// A whole non-streamed OpenAI answer (a chat or text completion, embeddings) read from its raw
// bytes (json_scanner.h) instead of through simdjson: its text is counted where it lies, never
// unescaped into a string buffer. What it gives is what the dialect's simdjson reader would
// take from the same bytes; on anything that reader treats specially, or that the scanner does
// not accept, it gives nothing and the caller hands the bytes to simdjson.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meter/usage.h"

namespace tollgate::meter {

// What one answer teaches. Views point into the scanned bytes.
struct OpenAiBodyScan {
  static constexpr size_t kMaxFinishReasons = 8;

  int64_t content_bytes = 0;  // text of the choices' message/delta "content" and "text"
  std::string_view id;        // the first non-empty string "id" (when asked for)
  std::string_view model;     // the first non-empty string "model" (when asked for)
  std::string_view tier;      // the last string "service_tier"
  bool tier_seen = false;
  std::array<std::string_view, kMaxFinishReasons> finish_reasons{};  // string ones, in order
  size_t finish_count = 0;
  Usage usage;  // the last "usage" object: prompt/completion tokens and their details
  bool usage_seen = false;
};

// Reads `json` into `scan`; `want_id` / `want_model` say whether an id / model is still to be
// learnt. False for an "error" or llama.cpp "timings" member, a choice that is not an object,
// escapes in a string it keeps, more than
// kMaxFinishReasons finish reasons, and anything the scanner rejects; `scan` is then
// meaningless.
bool scanOpenAiBody(std::string_view json, bool want_id, bool want_model, OpenAiBodyScan& scan);

class JsonScanner;

// An OpenAI "usage" object at the scanner's position, with the result the dialect's simdjson
// reader (readUsage) gives: every read replaces the whole usage; a count that is not a
// non-negative integer within bounds reads as kMalformedCount. False on anything the scanner
// rejects. Used for whole answers and for stream chunks alike.
bool scanOpenAiUsage(JsonScanner& in, Usage& usage);

}  // namespace tollgate::meter
