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

// A byte that means something in a glob (glob.h).
bool isGlobSpecial(char c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

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

std::optional<PicoPerRequest> parsePerThousandPrice(std::string_view decimal) {
  constexpr int kMaxRequestPriceFractionDigits = 9;
  constexpr int64_t kRequestsPerPriceUnit = 1'000;
  if (decimal.empty() || decimal.front() == '-') return std::nullopt;
  if (const size_t dot = decimal.find('.'); dot != std::string_view::npos) {
    if (decimal.size() - dot - 1 > static_cast<size_t>(kMaxRequestPriceFractionDigits)) {
      return std::nullopt;
    }
  }
  const auto usd = Money::parseUsd(decimal);
  if (!usd) return std::nullopt;
  return usd->pico() / kRequestsPerPriceUnit;
}

std::string_view unitPriceKey(Unit unit) {
  switch (unit) {
    case Unit::kAudioInputTokens:
      return "audio_input";
    case Unit::kImageInputTokens:
      return "image_input";
    case Unit::kAudioOutputTokens:
      return "audio_output";
    case Unit::kImageOutputTokens:
      return "image_output";
    case Unit::kWebSearchRequests:
      return "web_search_per_1k";
    case Unit::kWebFetchRequests:
      return "web_fetch_per_1k";
    case Unit::kFileSearchCalls:
      return "file_search_per_1k";
    case Unit::kGroundingRequests:
      return "grounding_per_1k";
  }
  return "unknown";
}

UsageFlags unpricedUnits(const Price& price, const Usage& usage) {
  for (const Unit unit : kAllUnits) {
    if (isRequestUnit(unit) && usage[unit] > 0 && price.unit[index(unit)] == kNoUnitPrice) {
      return kUsageUnitUnpriced;
    }
  }
  return 0;
}

CostBreakdown computeCost(const Price& price, const Usage& usage) {
  // A dialect that reports inconsistent parts (a part larger than its total, or a negative
  // count) must not produce a negative charge: each derived count is clamped at zero.
  const Wide input = nonNegative(usage.input_tokens);
  const Wide cache_read = nonNegative(usage.cache_read_tokens);
  const Wide cache_write = nonNegative(usage.cache_write_tokens);
  const Wide output = nonNegative(usage.output_tokens);
  const Wide reasoning = nonNegative(usage.reasoning_tokens);
  Wide uncached_input = nonNegative(input - cache_read - cache_write);
  Wide plain_output = nonNegative(output - reasoning);

  CostBreakdown cost;
  // A modality part is taken out of what remains of its side, so that the parts never add up
  // to more than the total they belong to: no token is priced twice.
  auto part = [&](Unit unit, Wide& rest) {
    const Wide n = std::min(nonNegative(usage[unit]), rest);
    rest -= n;
    int64_t per_token = price.unit[index(unit)];
    if (per_token == kNoUnitPrice) per_token = isInputTokenUnit(unit) ? price.input : price.output;
    const Wide charge = n * per_token;
    cost.units[index(unit)] = Money::fromPico(saturate(charge));
    return charge;
  };
  // Most calls count no line item: their parts and request units are all zero, and so are
  // their charges (cost.units stays zero), so the branch is skipped.
  Wide audio_in = 0, image_in = 0, audio_out = 0, image_out = 0, requests = 0;
  if (usage.hasLineItems()) {
    audio_in = part(Unit::kAudioInputTokens, uncached_input);
    image_in = part(Unit::kImageInputTokens, uncached_input);
    audio_out = part(Unit::kAudioOutputTokens, plain_output);
    image_out = part(Unit::kImageOutputTokens, plain_output);
    for (const Unit unit : kAllUnits) {
      const int64_t per_request = price.unit[index(unit)];
      if (!isRequestUnit(unit) || per_request == kNoUnitPrice) continue;
      const Wide charge = nonNegative(usage[unit]) * per_request;
      cost.units[index(unit)] = Money::fromPico(saturate(charge));
      requests += cost.units[index(unit)].pico();
    }
  }
  cost.input = Money::fromPico(saturate(uncached_input * price.input + audio_in + image_in));
  cost.cache_read = Money::fromPico(saturate(cache_read * price.cache_read));
  const Wide write_1h = std::min(nonNegative(usage.cache_write_1h_tokens), cache_write);
  cost.cache_write = Money::fromPico(
      saturate((cache_write - write_1h) * price.cache_write + write_1h * price.cache_write_1h));
  cost.output = Money::fromPico(
      saturate(plain_output * price.output + reasoning * price.reasoning + audio_out + image_out));
  cost.requests = Money::fromPico(saturate(requests));
  const Wide total = Wide{cost.input.pico()} + cost.cache_read.pico() + cost.cache_write.pico() +
                     cost.output.pico() + cost.requests.pico();
  cost.total = Money::fromPico(saturate(total));
  return cost;
}

UsageFlags clampToContext(const PriceEntry& entry, Usage& usage) {
  if (entry.max_context_tokens <= 0) return 0;
  UsageFlags flags = 0;
  for (int64_t* n : {&usage.input_tokens, &usage.cache_read_tokens, &usage.cache_write_tokens,
                     &usage.output_tokens, &usage.reasoning_tokens, &usage.cache_write_1h_tokens,
                     &usage[Unit::kAudioInputTokens], &usage[Unit::kImageInputTokens],
                     &usage[Unit::kAudioOutputTokens], &usage[Unit::kImageOutputTokens]}) {
    if (*n > entry.max_context_tokens) {
      *n = entry.max_context_tokens;
      flags |= kUsageOverContext;
    }
  }
  return flags;
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
  match_kinds_.reserve(entries_.size());
  for (const PriceEntry& entry : entries_) {
    const std::string_view pattern = entry.pattern;
    const size_t special =
        std::find_if(pattern.begin(), pattern.end(), isGlobSpecial) - pattern.begin();
    // An empty pattern is not a valid glob (it matches nothing): globMatch says so.
    MatchKind kind = MatchKind::kGlob;
    if (!pattern.empty() && special == pattern.size()) {
      kind = MatchKind::kEqual;
    } else if (!pattern.empty() && special == pattern.size() - 1 && pattern.back() == '*') {
      kind = MatchKind::kPrefix;
    }
    match_kinds_.push_back(kind);
  }
}

bool PriceBook::matches(size_t entry, std::string_view model) const {
  const std::string_view pattern = entries_[entry].pattern;
  switch (match_kinds_[entry]) {
    case MatchKind::kEqual:
      return model == pattern;
    case MatchKind::kPrefix:
      return model.starts_with(pattern.substr(0, pattern.size() - 1));
    case MatchKind::kGlob:
      break;
  }
  return globMatch(pattern, model);
}

const PriceEntry* PriceBook::find(std::string_view model) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].variant.empty() && matches(i, model)) return &entries_[i];
  }
  return nullptr;
}

const PriceEntry* PriceBook::find(std::string_view model, std::string_view variant,
                                  int64_t at_unix_ns) const {
  const PriceEntry* standard = nullptr;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const PriceEntry& entry = entries_[i];
    if (at_unix_ns < entry.effective_from_ns || at_unix_ns >= entry.effective_until_ns) continue;
    if (entry.variant != variant && !entry.variant.empty()) continue;
    if (!matches(i, model)) continue;
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
