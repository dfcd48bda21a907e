#include "meter/price_book.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "meter/glob.h"

namespace tollgate::meter {
namespace {

constexpr int kMaxPriceFractionDigits = 6;
constexpr int64_t kTokensPerPriceUnit = 1'000'000;

using Wide = __int128;

// Cost parts are saturated rather than wrapped: int64 picodollars reach about $9.2M, far beyond
// any single call, so saturation only ever shows on nonsense usage, and then as an absurdly
// large bill instead of a negative one. Only then can total differ from the sum of its parts.
int64_t saturate(Wide value) {
  constexpr Wide kMax = std::numeric_limits<int64_t>::max();
  constexpr Wide kMin = std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::clamp(value, kMin, kMax));
}

Wide nonNegative(Wide value) { return value < 0 ? 0 : value; }

}  // namespace

std::optional<PicoPerToken> parsePerMillionPrice(std::string_view decimal) {
  if (decimal.empty() || decimal.front() == '-') return std::nullopt;
  if (const size_t dot = decimal.find('.'); dot != std::string_view::npos) {
    if (decimal.size() - dot - 1 > static_cast<size_t>(kMaxPriceFractionDigits)) {
      return std::nullopt;
    }
  }
  // USD per 1M tokens times 1e12 pico per USD over 1e6 tokens: pico per token. With at most six
  // fraction digits the division is exact.
  const auto usd = Money::parseUsd(decimal);
  if (!usd) return std::nullopt;
  return usd->pico() / kTokensPerPriceUnit;
}

CostBreakdown computeCost(const Price& price, const Usage& usage) {
  // A dialect that reports inconsistent parts (a part larger than its total, or a negative
  // count) must not produce a negative charge: each derived count is clamped at zero.
  const Wide input = nonNegative(usage.input_tokens);
  const Wide cache_read = nonNegative(usage.cache_read_tokens);
  const Wide cache_write = nonNegative(usage.cache_write_tokens);
  const Wide output = nonNegative(usage.output_tokens);
  const Wide reasoning = nonNegative(usage.reasoning_tokens);
  const Wide uncached_input = nonNegative(input - cache_read - cache_write);
  const Wide plain_output = nonNegative(output - reasoning);

  CostBreakdown cost;
  cost.input = Money::fromPico(saturate(uncached_input * price.input));
  cost.cache_read = Money::fromPico(saturate(cache_read * price.cache_read));
  cost.cache_write = Money::fromPico(saturate(cache_write * price.cache_write));
  cost.output =
      Money::fromPico(saturate(plain_output * price.output + reasoning * price.reasoning));
  const Wide total = Wide{cost.input.pico()} + cost.cache_read.pico() + cost.cache_write.pico() +
                     cost.output.pico();
  cost.total = Money::fromPico(saturate(total));
  return cost;
}

PriceBook::PriceBook(std::string version, std::vector<PriceEntry> entries)
    : version_(std::move(version)), entries_(std::move(entries)) {}

const PriceEntry* PriceBook::find(std::string_view model) const {
  for (const PriceEntry& entry : entries_) {
    if (globMatch(entry.pattern, model)) return &entry;
  }
  return nullptr;
}

std::string PriceBook::priceRef(const PriceEntry& entry) const {
  std::string ref;
  ref.reserve(version_.size() + 1 + entry.pattern.size());
  ref.append(version_).append("/").append(entry.pattern);
  return ref;
}

}  // namespace tollgate::meter
