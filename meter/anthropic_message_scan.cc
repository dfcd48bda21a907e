#include "meter/anthropic_message_scan.h"

#include "meter/json_scanner.h"
#include "meter/usage.h"

namespace tollgate::meter {
namespace {

bool scanUsage(JsonScanner& in, AnthropicMessageScan& scan) {
  return in.forEachMember([&](std::string_view key) {
    if (key == "input_tokens") return in.count(scan.input);
    if (key == "output_tokens") return in.count(scan.output);
    if (key == "cache_creation_input_tokens") return in.count(scan.cache_creation);
    if (key == "cache_read_input_tokens") return in.count(scan.cache_read);
    if (key == "cache_creation" && in.peek() == '{') {
      int64_t one_hour = 0;
      const bool read = in.forEachMember([&](std::string_view part) {
        return part == "ephemeral_1h_input_tokens" ? in.count(one_hour) : in.skipValue();
      });
      scan.cache_1h = one_hour;
      return read;
    }
    if (key == "service_tier" && in.peek() == '"') {
      scan.tier_seen = true;
      return in.plainString(scan.tier);
    }
    if (key == "server_tool_use" && in.peek() == '{') {
      return in.forEachMember([&](std::string_view tool) {
        if (tool == "web_search_requests") return in.count(scan.web_search);
        if (tool == "web_fetch_requests") return in.count(scan.web_fetch);
        return in.skipValue();
      });
    }
    if (key == "output_tokens_details" && in.peek() == '{') {
      return in.forEachMember([&](std::string_view detail) {
        return detail == "thinking_tokens" ? in.count(scan.thinking) : in.skipValue();
      });
    }
    // Steps of the call (compaction, advisors) and counts the dialect does not know are the
    // simdjson reader's: an empty list says nothing.
    if (key == "iterations" && in.peek() == '[') return in.forEachElement([] { return false; });
    return !looksBillable(key) && in.skipValue();
  });
}

// The content blocks; blocks that are not objects count nothing.
bool scanContent(JsonScanner& in, AnthropicMessageScan& scan) {
  return in.forEachElement([&] {
    if (in.peek() != '{') return in.skipValue();
    return in.forEachMember([&](std::string_view key) {
      if (key == "text" || key == "thinking") return in.addStringBytes(scan.content_bytes);
      return key != "input" && in.skipValue();
    });
  });
}

}  // namespace

bool scanAnthropicMessage(std::string_view json, bool want_id, bool want_model,
                          AnthropicMessageScan& scan) {
  JsonScanner in(json);
  bool is_message = false;
  const bool read = in.forEachMember([&](std::string_view key) {
    if (key == "type") {
      std::string_view type;
      if (!in.plainString(type)) return false;
      is_message = type == "message";
      return is_message;  // the stream's events are read by the dialect's other readers
    }
    if (key == "content") return in.peek() == '[' ? scanContent(in, scan) : in.skipValue();
    if (key == "usage") {
      scan.has_usage = true;
      return in.peek() == '{' && scanUsage(in, scan);
    }
    if (key == "stop_reason") {
      if (in.peek() != '"') return in.skipValue();
      std::string_view reason;
      if (scan.stop_count == AnthropicMessageScan::kMaxStopReasons || !in.plainString(reason)) {
        return false;
      }
      scan.stop_reasons[scan.stop_count++] = reason;
      return true;
    }
    if (key == "id") {
      if (!want_id || !scan.id.empty() || in.peek() != '"') return in.skipValue();
      return in.plainString(scan.id);
    }
    if (key == "model") {
      if (!want_model || !scan.model.empty() || in.peek() != '"') return in.skipValue();
      return in.plainString(scan.model);
    }
    return key != "message" && key != "delta" && key != "content_block" && key != "error" &&
           in.skipValue();
  });
  return read && is_message && in.complete();
}

}  // namespace tollgate::meter
