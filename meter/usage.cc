#include "meter/usage.h"

namespace tollgate::meter {

bool withinBounds(const Usage& usage) {
  for (const int64_t n :
       {usage.input_tokens, usage.cache_read_tokens, usage.cache_write_tokens, usage.output_tokens,
        usage.reasoning_tokens, usage.cache_write_1h_tokens}) {
    if (n < 0 || n > kMaxCallTokens) return false;
  }
  return true;
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
  }
  return "unknown";
}

}  // namespace tollgate::meter
