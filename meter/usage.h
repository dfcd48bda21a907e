#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace tollgate::meter {

// Canonical token usage of one call (architecture.md, "Money and usage").
// input_tokens counts ALL input tokens: cache_read_tokens and cache_write_tokens are parts of
// it. output_tokens counts all output: reasoning_tokens is a part of it. Each dialect converts
// its own convention into this one; a part is never priced on top of its total.
struct Usage {
  int64_t input_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  // The part of cache_write_tokens written with a 1-hour lifetime (Anthropic's
  // ephemeral_1h_input_tokens), priced at cache_write_1h; the rest of the writes are 5-minute.
  int64_t cache_write_1h_tokens = 0;

  friend bool operator==(const Usage&, const Usage&) = default;
};

// The most tokens of one kind a single call can report: a hundred times the largest context
// window of any model (about 10M tokens), so that no real call comes near it, while a booking
// of nonsense stays bounded (1e9 tokens at the dearest price fits int64 picodollars many times).
inline constexpr int64_t kMaxCallTokens = 1'000'000'000;

// What a reader records for a count that is not a non-negative integer (null, a string, a
// fraction, an exponent, a negative or an out-of-range number): a value above kMaxCallTokens,
// so that the call's usage is refused when it is settled (withinBounds), whatever sums it went
// through (addCounts saturates at it).
inline constexpr int64_t kMalformedCount = std::numeric_limits<int64_t>::max();

// a + b for counts, saturating instead of wrapping (a sum of counts that overflows is nonsense
// and must stay out of bounds, never come back negative).
constexpr int64_t addCounts(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

// Every count is in [0, kMaxCallTokens].
bool withinBounds(const Usage& usage);

// Where the usage of an event came from.
enum class UsageSource {
  kNone,       // nothing known
  kProvider,   // reported by the upstream
  kEstimated,  // the usage never arrived (stream cut short): counted by the gateway
};

std::string_view toString(UsageSource source);

// Why the booked usage is not simply the provider's report (a bit set, MeterResult and the
// cost event's "usage_flags"). Empty for nearly every call.
enum UsageFlag : uint32_t {
  // A provider count was malformed or beyond kMaxCallTokens: the report was refused and the
  // usage estimated (usage_source "estimated").
  kUsageCountRefused = 1u << 0,
  // A count exceeded the model's context window (price entry max_context_tokens): clamped to it.
  kUsageOverContext = 1u << 1,
  // A streamed event exceeded the meter's event cap: relayed unchanged, not read.
  kUsageEventOversized = 1u << 2,
  // A JSON answer exceeded the meter's body cap: read from its head and tail windows only.
  kUsageBodyWindowed = 1u << 3,
};
using UsageFlags = uint32_t;
inline constexpr UsageFlag kAllUsageFlags[] = {kUsageCountRefused, kUsageOverContext,
                                               kUsageEventOversized, kUsageBodyWindowed};

// "count_refused", "over_context", "event_oversized", "body_windowed".
std::string_view toString(UsageFlag flag);

}  // namespace tollgate::meter
