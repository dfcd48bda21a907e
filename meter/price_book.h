#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meter/money.h"
#include "meter/usage.h"

namespace tollgate::meter {

// Picodollars per token. A config price is "USD per 1M tokens" as a decimal string; with at
// most 6 fraction digits it is an exact integer number of picodollars per token
// ("0.075" per 1M = 75,000 pUSD per token).
using PicoPerToken = int64_t;

// Parses a USD-per-1M-tokens decimal string ("3.00", "0.075") into picodollars per token.
// nullopt when malformed, negative, with more than 6 fraction digits, or out of range.
std::optional<PicoPerToken> parsePerMillionPrice(std::string_view decimal);

// Picodollars per request. A config price of a request unit is "USD per 1,000 requests" as a
// decimal string; with at most 9 fraction digits it is an exact integer number of picodollars
// per request ("10.00" per 1,000 = 10,000,000,000 pUSD per request).
using PicoPerRequest = int64_t;
std::optional<PicoPerRequest> parsePerThousandPrice(std::string_view decimal);

// A request unit the catalog entry gives no price for.
inline constexpr int64_t kNoUnitPrice = -1;

struct Price {
  PicoPerToken input = 0;
  PicoPerToken cache_read = 0;   // config default: the input price
  PicoPerToken cache_write = 0;  // 5-minute cache writes; config default: the input price
  PicoPerToken output = 0;
  PicoPerToken reasoning = 0;       // config default: the output price
  PicoPerToken cache_write_1h = 0;  // 1-hour cache writes; config default: cache_write
  // Per Unit: picodollars per token for the token kinds, per request for the request kinds;
  // kNoUnitPrice when the catalog gives none. A token kind without a price is priced as text
  // (the input price for the input kinds, the output price for the output kinds); a request
  // kind without one is listed at no cost and flagged (unpricedUnits). Config keys: unitPriceKey.
  std::array<int64_t, kUnitCount> unit{kNoUnitPrice, kNoUnitPrice, kNoUnitPrice, kNoUnitPrice,
                                       kNoUnitPrice, kNoUnitPrice, kNoUnitPrice, kNoUnitPrice};
};

// The config key of a unit's price: "audio_input", "image_output", "web_search_per_1k",
// "web_fetch_per_1k", "file_search_per_1k", "grounding_per_1k".
std::string_view unitPriceKey(Unit unit);

// The price of a call whose input exceeds `above_input_tokens` (long-context pricing: Anthropic
// and Gemini charge more for every token of a call above 200k input tokens).
struct PriceTier {
  int64_t above_input_tokens = 0;
  Price price;
};

inline constexpr int64_t kBeginningOfTime = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kEndOfTime = std::numeric_limits<int64_t>::max();

struct PriceEntry {
  std::string pattern;  // model glob, e.g. "gpt-4o-mini*"
  Price price;
  std::vector<PriceTier> tiers{};                // ascending thresholds
  std::string variant{};                         // "" standard, "batch", "priority" or "flex"
  int64_t effective_from_ns = kBeginningOfTime;  // unix ns, inclusive
  int64_t effective_until_ns = kEndOfTime;       // unix ns, exclusive
  std::string catalog{};  // catalog version it comes from; "" = the book's own version
  // The model's context window in tokens, when the catalog knows it (0: unknown). No call can
  // read or write more tokens than it holds: a report beyond it is clamped (clampToContext).
  int64_t max_context_tokens = 0;

  // The price for a call of this usage: the highest tier whose threshold its input exceeds.
  const Price& priceFor(const Usage& usage) const;
};

// Exact cost of one call. `input` prices the input tokens that were neither cache reads nor
// cache writes (their audio and image parts at those prices); `output` prices all output tokens
// (reasoning, audio and image ones at their prices); `requests` the request units; and
// `other_models` the usage that ran on other models (ModelUsage, priced by the caller).
// total == input + cache_read + cache_write + output + requests + other_models, exactly.
// `units` itemizes each Unit's cost: the token kinds' are parts of input/output, the request
// kinds' add up to `requests`.
struct CostBreakdown {
  Money input, cache_read, cache_write, output, total;
  Money requests, other_models;
  std::array<Money, kUnitCount> units{};
  friend bool operator==(const CostBreakdown&, const CostBreakdown&) = default;
};

// kUsageUnitUnpriced when `usage` counts a request unit that `price` gives no price for.
UsageFlags unpricedUnits(const Price& price, const Usage& usage);

// Clamps every count of `usage` to the entry's max_context_tokens (when set): a provider's
// report of more tokens than the model's window holds is nonsense, and is booked at most as a
// full window. Returns kUsageOverContext when it clamped a count, else 0.
UsageFlags clampToContext(const PriceEntry& entry, Usage& usage);

CostBreakdown computeCost(const Price& price, const Usage& usage);
// With the entry's tier for this usage.
CostBreakdown computeCost(const PriceEntry& entry, const Usage& usage);

// Immutable catalog of prices by model glob; the first matching entry wins (config order).
// `base` entries (the bundled default catalog) come after `entries`, so the user's win.
class PriceBook {
 public:
  PriceBook() = default;
  PriceBook(std::string version, std::vector<PriceEntry> entries,
            std::vector<PriceEntry> base = {});

  // The first standard entry matching `model`, whatever its dates.
  const PriceEntry* find(std::string_view model) const;
  // The first entry matching `model` in force at `at_unix_ns` with price variant `variant`;
  // when no entry has that variant, the first standard one (a batch or priority call is then
  // priced at the standard price rather than not at all).
  const PriceEntry* find(std::string_view model, std::string_view variant,
                         int64_t at_unix_ns) const;
  const std::string& version() const { return version_; }
  const std::vector<PriceEntry>& entries() const { return entries_; }

  // "<catalog version>/<pattern>[#<variant>]": what an event names as its price_ref.
  std::string priceRef(const PriceEntry& entry) const;

 private:
  // How an entry's pattern is matched. Nearly every pattern is a plain name or a plain prefix
  // and one final '*': those are compared as strings instead of being parsed as globs on each
  // lookup. The result is globMatch's.
  enum class MatchKind : uint8_t { kEqual, kPrefix, kGlob };
  bool matches(size_t entry, std::string_view model) const;

  std::string version_;
  std::vector<PriceEntry> entries_;
  std::vector<MatchKind> match_kinds_;  // one per entry
};

}  // namespace tollgate::meter
