#include "meter/usage.h"

namespace tollgate::meter {

bool withinBounds(const Usage& usage) {
  for (const int64_t n :
       {usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens, usage.output_tokens,
        usage.reasoning_tokens, usage.cache_write_1h_tokens}) {
    if (n < 0 || n > kMaxCallTokens) return false;
  }
  for (const int64_t n : usage.units) {
    if (n < 0 || n > kMaxCallTokens) return false;
  }
  return true;
}

std::string_view toString(Unit unit) {
  switch (unit) {
    case Unit::kAudioInputTokens:
      return "audio_input_tokens";
    case Unit::kImageInputTokens:
      return "image_input_tokens";
    case Unit::kAudioOutputTokens:
      return "audio_output_tokens";
    case Unit::kImageOutputTokens:
      return "image_output_tokens";
    case Unit::kWebSearchRequests:
      return "web_search_requests";
    case Unit::kWebFetchRequests:
      return "web_fetch_requests";
    case Unit::kFileSearchCalls:
      return "file_search_calls";
    case Unit::kGroundingRequests:
      return "grounding_requests";
  }
  return "unknown";
}

bool looksBillable(std::string_view key) {
  for (const std::string_view suffix :
       {"_tokens", "_requests", "_calls", "_count", "_seconds", "Tokens", "Count", "Requests"}) {
    if (key.size() > suffix.size() && key.ends_with(suffix)) return true;
  }
  return false;
}

std::string_view toString(UsageSource source) {
  switch (source) {
    case UsageSource::kProvider:
      return "provider";
    case UsageSource::kEstimated:
      return "estimated";
    case UsageSource::kNone:
      break;
  }
  return "none";
}

std::string_view toString(UsageFlag flag) {
  switch (flag) {
    case kUsageCountRefused:
      return "count_refused";
    case kUsageOverContext:
      return "over_context";
    case kUsageEventOversized:
      return "event_oversized";
    case kUsageBodyWindowed:
      return "body_windowed";
    case kUsageUnknownUnits:
      return "unknown_units";
    case kUsageUnitUnpriced:
      return "unit_unpriced";
  }
  return "unknown";
}

}  // namespace tollgate::meter
