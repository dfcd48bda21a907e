#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace tollgate::meter {

// A billed unit that one text-token number cannot express: a line item of its own, priced from
// the catalog per 1M tokens (the token kinds) or per 1,000 requests (the request kinds).
// The token kinds are PARTS of input_tokens / output_tokens (the uncached input, the output):
// each is priced at its own price instead of the text price, never on top of it. The request
// kinds are counted apart from the tokens and priced in addition to them.
enum class Unit : uint8_t {
  kAudioInputTokens,   // OpenAI prompt_tokens_details.audio_tokens, Gemini AUDIO prompt tokens
  kImageInputTokens,   // OpenAI prompt_tokens_details.image_tokens, Gemini IMAGE prompt tokens
  kAudioOutputTokens,  // OpenAI completion_tokens_details.audio_tokens, Gemini AUDIO output
  kImageOutputTokens,  // OpenAI completion_tokens_details.image_tokens, Gemini IMAGE output
  kWebSearchRequests,  // Anthropic server_tool_use.web_search_requests, OpenAI web_search_call
  kWebFetchRequests,   // Anthropic server_tool_use.web_fetch_requests
  kFileSearchCalls,    // OpenAI file_search_call output items
  kGroundingRequests,  // Gemini grounded prompts (a candidate with groundingMetadata)
};
inline constexpr size_t kUnitCount = 8;
inline constexpr Unit kAllUnits[kUnitCount] = {Unit::kAudioInputTokens,  Unit::kImageInputTokens,
                                               Unit::kAudioOutputTokens, Unit::kImageOutputTokens,
                                               Unit::kWebSearchRequests, Unit::kWebFetchRequests,
                                               Unit::kFileSearchCalls,   Unit::kGroundingRequests};
using UnitCounts = std::array<int64_t, kUnitCount>;

constexpr size_t index(Unit unit) { return static_cast<size_t>(unit); }
constexpr bool isRequestUnit(Unit unit) { return unit >= Unit::kWebSearchRequests; }
constexpr bool isInputTokenUnit(Unit unit) {
  return unit == Unit::kAudioInputTokens || unit == Unit::kImageInputTokens;
}

// The unit's name in the event and the catalog's key for its price: "audio_input_tokens",
// "web_search_requests", ...
std::string_view toString(Unit unit);

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
  // Line items (Unit): token kinds that are parts of the totals above, and request counts.
  UnitCounts units{};
  // Members of the provider's usage that look billable (numbers named *_tokens, *_requests,
  // *_calls, *_count, *_seconds) but that the dialect does not know: counted, never priced,
  // surfaced in the event so that a new billed unit does not pass unseen (usage flag
  // "unknown_units").
  int64_t unknown_units = 0;

  int64_t& operator[](Unit unit) { return units[index(unit)]; }
  int64_t operator[](Unit unit) const { return units[index(unit)]; }
  bool hasLineItems() const {
    for (const int64_t n : units) {
      if (n != 0) return true;
    }
    return false;
  }

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
  // The usage held members that look billable but that the dialect does not know
  // (Usage::unknown_units): they are not priced.
  kUsageUnknownUnits = 1u << 4,
  // A line item had no price in the catalog entry (a request unit without its per-1,000 price,
  // or usage on another model that no entry prices): it is listed in the event at no cost.
  kUsageUnitUnpriced = 1u << 5,
};
using UsageFlags = uint32_t;
inline constexpr UsageFlag kAllUsageFlags[] = {kUsageCountRefused,   kUsageOverContext,
                                               kUsageEventOversized, kUsageBodyWindowed,
                                               kUsageUnknownUnits,   kUsageUnitUnpriced};

// "count_refused", "over_context", "event_oversized", "body_windowed", "unknown_units",
// "unit_unpriced".
std::string_view toString(UsageFlag flag);

// Whether a member of a usage object named `key` with a number value looks like a billed count
// (it ends in "_tokens", "_requests", "_calls", "_count" or "_seconds" (Mistral's
// prompt_audio_seconds), or camelCase "Tokens"/"Count"/"Requests").
bool looksBillable(std::string_view key);

// Usage that ran on another model than the call's (Anthropic's advisor iterations): priced at
// that model's catalog entry, as a line item of its own.
struct ModelUsage {
  std::string model;
  Usage usage;
  friend bool operator==(const ModelUsage&, const ModelUsage&) = default;
};

}  // namespace tollgate::meter
