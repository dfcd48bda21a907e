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
  const Wide write_1h = std::min(nonNegative(usage.cache_write_1h_tokens), cache_write);
  cost.cache_write = Money::fromPico(
      saturate((cache_write - write_1h) * price.cache_write + write_1h * price.cache_write_1h));
  cost.output =
      Money::fromPico(saturate(plain_output * price.output + reasoning * price.reasoning));
  const Wide total = Wide{cost.input.pico()} + cost.cache_read.pico() + cost.cache_write.pico() +
                     cost.output.pico();
  cost.total = Money::fromPico(saturate(total));
  return cost;
}

CostBreakdown computeCost(const PriceEntry& entry, const Usage& usage) {
  return computeCost(entry.priceFor(usage), usage);
}

const Price& PriceEntry::priceFor(const Usage& usage) const {
  const Price* chosen = &price;
  for (const PriceTier& tier : tiers) {
    if (usage.input_tokens > tier.above_input_tokens) chosen = &tier.price;
  }
  return *chosen;
}

PriceBook::PriceBook(std::string version, std::vector<PriceEntry> entries,
                     std::vector<PriceEntry> base)
    : version_(std::move(version)), entries_(std::move(entries)) {
  entries_.insert(entries_.end(), std::make_move_iterator(base.begin()),
                  std::make_move_iterator(base.end()));
}

const PriceEntry* PriceBook::find(std::string_view model) const {
  for (const PriceEntry& entry : entries_) {
    if (entry.variant.empty() && globMatch(entry.pattern, model)) return &entry;
  }
  return nullptr;
}

const PriceEntry* PriceBook::find(std::string_view model, std::string_view variant,
                                  int64_t at_unix_ns) const {
  const PriceEntry* standard = nullptr;
  for (const PriceEntry& entry : entries_) {
    if (at_unix_ns < entry.effective_from_ns || at_unix_ns >= entry.effective_until_ns) continue;
    if (entry.variant != variant && !entry.variant.empty()) continue;
    if (!globMatch(entry.pattern, model)) continue;
    if (entry.variant == variant) return &entry;
    if (standard == nullptr) standard = &entry;
  }
  return standard;
}

std::string PriceBook::priceRef(const PriceEntry& entry) const {
  const std::string& version = entry.catalog.empty() ? version_ : entry.catalog;
  std::string ref;
  ref.reserve(version.size() + 1 + entry.pattern.size() + 1 + entry.variant.size());
  ref.append(version).append("/").append(entry.pattern);
  if (!entry.variant.empty()) ref.append("#").append(entry.variant);
  return ref;
}

}  // namespace tollgate::meter
