#pragma once

#include <cstdint>
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

struct Price {
  PicoPerToken input = 0;
  PicoPerToken cache_read = 0;   // config default: the input price
  PicoPerToken cache_write = 0;  // config default: the input price
  PicoPerToken output = 0;
  PicoPerToken reasoning = 0;    // config default: the output price
};

struct PriceEntry {
  std::string pattern;  // model glob, e.g. "gpt-4o-mini*"
  Price price;
};

// Exact cost of one call. `input` prices the input tokens that were neither cache reads nor
// cache writes; `output` prices all output tokens (reasoning ones at the reasoning price).
// total == input + cache_read + cache_write + output, exactly.
struct CostBreakdown {
  Money input, cache_read, cache_write, output, total;
  friend bool operator==(const CostBreakdown&, const CostBreakdown&) = default;
};

CostBreakdown computeCost(const Price& price, const Usage& usage);

// Immutable catalog of prices by model glob; the first matching entry wins (config order).
class PriceBook {
 public:
  PriceBook() = default;
  PriceBook(std::string version, std::vector<PriceEntry> entries);

  const PriceEntry* find(std::string_view model) const;
  const std::string& version() const { return version_; }
  const std::vector<PriceEntry>& entries() const { return entries_; }

  // "<version>/<pattern>": what an event names as its price_ref.
  std::string priceRef(const PriceEntry& entry) const;

 private:
  std::string version_;
  std::vector<PriceEntry> entries_;
};

}  // namespace tollgate::meter
