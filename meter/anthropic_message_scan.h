#pragma once

// A whole non-streamed Anthropic answer (a "message" object) read from its raw bytes
// (json_scanner.h) instead of through simdjson: its text is counted where it lies, never
// unescaped into a string buffer. What it gives is what the dialect's simdjson reader would
// take from the same bytes; on anything that reader treats specially, or that the scanner does
// not accept, it gives nothing and the caller hands the bytes to simdjson.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tollgate::meter {

// What one message teaches. Views point into the scanned bytes; a count is -1 when no "usage"
// member reported it (a reported count that is not a non-negative integer within bounds reads
// as kMalformedCount).
struct AnthropicMessageScan {
  static constexpr size_t kMaxStopReasons = 8;

  int64_t content_bytes = 0;  // "text" and "thinking" of the content blocks
  std::string_view id;        // the first non-empty string "id" (when asked for)
  std::string_view model;     // the first non-empty string "model" (when asked for)
  std::array<std::string_view, kMaxStopReasons> stop_reasons{};  // string ones, in order
  size_t stop_count = 0;
  bool has_usage = false;       // a "usage" object (the last one reported each count)
  int64_t input = -1;           // input_tokens (without the cache)
  int64_t cache_creation = -1;  // cache_creation_input_tokens
  int64_t cache_read = -1;      // cache_read_input_tokens
  int64_t cache_1h = -1;        // cache_creation.ephemeral_1h_input_tokens (0 when absent)
  int64_t output = -1;          // output_tokens
  int64_t web_search = -1;      // server_tool_use.web_search_requests
  int64_t web_fetch = -1;       // server_tool_use.web_fetch_requests
  int64_t thinking = -1;        // output_tokens_details.thinking_tokens
  std::string_view tier;        // the last string usage.service_tier
  bool tier_seen = false;
};

// Reads `json`, which must be an object of "type" "message", into `scan`; `want_id` /
// `want_model` say whether an id / model is still to be learnt. False for any other type (the
// stream's events), "message", "delta", "content_block" or "error" members, a tool call's
// "input" (its JSON length is simdjson's to measure), a "usage" that is not an object, or one
// with a non-empty "iterations" list or a member that looks billable and is not known, escapes
// in a string it keeps, more than kMaxStopReasons stop reasons, and anything the scanner
// rejects; `scan` is then meaningless.
bool scanAnthropicMessage(std::string_view json, bool want_id, bool want_model,
                          AnthropicMessageScan& scan);

}  // namespace tollgate::meter
