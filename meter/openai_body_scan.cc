#include "meter/openai_body_scan.h"

#include "meter/json_scanner.h"

namespace tollgate::meter {
namespace {

// A token count as the simdjson reader reads it (get_int64, else 0): an integer, or null.
// False on anything else (a fraction, an exponent, a string): simdjson then reads it.
bool scanCount(JsonScanner& in, int64_t& n) {
  if (in.peek() == 'n') {
    n = 0;
    return in.null();
  }
  return in.integer(n);
}

// A usage object: every read replaces the whole usage, as the simdjson reader does.
bool scanUsage(JsonScanner& in, Usage& usage) {
  usage = Usage{};
  return in.forEachMember([&](std::string_view key) {
    if (key == "prompt_tokens") return scanCount(in, usage.input_tokens);
    if (key == "completion_tokens") return scanCount(in, usage.output_tokens);
    if (key == "prompt_tokens_details" && in.peek() == '{') {
      return in.forEachMember([&](std::string_view detail) {
        if (detail == "cached_tokens") return scanCount(in, usage.cache_read_tokens);
        if (detail == "cache_write_tokens") return scanCount(in, usage.cache_write_tokens);
        return in.skipValue();
      });
    }
    if (key == "completion_tokens_details" && in.peek() == '{') {
      return in.forEachMember([&](std::string_view detail) {
        if (detail == "reasoning_tokens") return scanCount(in, usage.reasoning_tokens);
        return in.skipValue();
      });
    }
    return in.skipValue();
  });
}

// A string's unescaped bytes added to `bytes`; a value of another type adds none.
bool scanTextBytes(JsonScanner& in, int64_t& bytes) {
  if (in.peek() != '"') return in.skipValue();
  int64_t n = 0;
  if (!in.string(n)) return false;
  bytes += n;
  return true;
}

bool scanChoice(JsonScanner& in, OpenAiBodyScan& scan) {
  return in.forEachMember([&](std::string_view key) {
    if (key == "finish_reason") {
      if (in.peek() != '"') return in.skipValue();
      std::string_view reason;
      if (scan.finish_count == OpenAiBodyScan::kMaxFinishReasons || !in.plainString(reason)) {
        return false;
      }
      scan.finish_reasons[scan.finish_count++] = reason;
      return true;
    }
    if (key == "delta" || key == "message") {
      if (in.peek() != '{') return in.skipValue();
      return in.forEachMember([&](std::string_view member) {
        return member == "content" ? scanTextBytes(in, scan.content_bytes) : in.skipValue();
      });
    }
    if (key == "text") return scanTextBytes(in, scan.content_bytes);  // legacy /v1/completions
    return in.skipValue();
  });
}

}  // namespace

bool scanOpenAiBody(std::string_view json, bool want_id, bool want_model, OpenAiBodyScan& scan) {
  JsonScanner in(json);
  const bool read = in.forEachMember([&](std::string_view key) {
    if (key == "choices") {
      if (in.peek() != '[') return in.skipValue();
      return in.forEachElement([&] { return in.peek() == '{' && scanChoice(in, scan); });
    }
    if (key == "usage") {
      if (in.peek() != '{') return in.skipValue();
      scan.usage_seen = true;
      return scanUsage(in, scan.usage);
    }
    if (key == "id") {
      if (!want_id || !scan.id.empty() || in.peek() != '"') return in.skipValue();
      return in.plainString(scan.id);
    }
    if (key == "model") {
      if (!want_model || !scan.model.empty() || in.peek() != '"') return in.skipValue();
      return in.plainString(scan.model);
    }
    if (key == "service_tier") {
      if (in.peek() != '"') return in.skipValue();
      scan.tier_seen = true;
      return in.plainString(scan.tier);
    }
    return key != "error" && key != "timings" && in.skipValue();
  });
  return read && in.complete();
}

}  // namespace tollgate::meter
