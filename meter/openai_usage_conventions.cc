#include "meter/openai_usage_conventions.h"

#include <algorithm>

namespace tollgate::meter {
namespace {

// -1 when the sum does not fit: absurd counts never make a convention match.
int64_t sum(int64_t a, int64_t b) {
  int64_t s = 0;
  return __builtin_add_overflow(a, b, &s) ? -1 : s;
}

}  // namespace

bool isKnownCompatibleMember(std::string_view key) { return key == "prompt_cache_miss_tokens"; }

void applyCompatibleConventions(const CompatibleUsageFields& fields, Usage& usage) {
  if (fields.prompt_cache_hit_tokens > usage.cache_read_tokens) {
    usage.cache_read_tokens = std::min(fields.prompt_cache_hit_tokens, usage.input_tokens);
  }
  const int64_t total = fields.total_tokens;
  if (total < 0 || usage.reasoning_tokens <= 0) return;
  const int64_t visible = sum(usage.input_tokens, usage.output_tokens);
  if (visible < 0 || total == visible) return;
  const int64_t with_reasoning = sum(visible, usage.reasoning_tokens);
  if (with_reasoning == total) usage.output_tokens += usage.reasoning_tokens;
}

}  // namespace tollgate::meter
