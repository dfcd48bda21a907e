// Loader: the prices: section, the bundled catalog and the price warnings.
#include "config/default_prices.h"
#include "config/loader.h"
#include "meter/glob.h"
#include "meter/price_book.h"

namespace tollgate::config {

std::optional<meter::PicoPerToken> Loader::price(const YAML::Node& node, const std::string& path) {
  auto text = scalar(node, path, "a decimal string of USD per 1M tokens");
  if (!text) return std::nullopt;
  auto value = meter::parsePerMillionPrice(*text);
  if (!value) error(path, std::string(kPriceMessage));
  return value;
}

void Loader::loadPrices(const YAML::Node& node, std::vector<meter::PriceEntry>& prices,
                        const std::string& path) {
  if (!checkDataMap(node, path, "a mapping of model glob to price")) return;
  forEachEntry(
      node, path, true,
      [&](const std::string& pattern, const YAML::Node& value, const std::string& entry_path) {
        if (auto problem = meter::globError(pattern)) {
          error(entry_path, "invalid glob: " + *problem);
        }
        // One price, or a list of prices with effective dates for the same glob.
        if (value.IsSequence()) {
          for (size_t i = 0; i < value.size(); ++i) {
            loadPriceEntry(pattern, value[i], entry_path + "[" + std::to_string(i) + "]", prices);
          }
          return;
        }
        loadPriceEntry(pattern, value, entry_path, prices);
      });
}

// input/output (required), cache_read, cache_write, cache_write_1h, reasoning: one price.
std::optional<meter::Price> Loader::loadPrice(const YAML::Node& value, const std::string& path,
                                              std::initializer_list<std::string_view> extra_keys) {
  if (!value.IsMap()) {
    error(path, "expected a mapping with input and output prices");
    return std::nullopt;
  }
  std::vector<std::string_view> known = {"input",       "output",         "cache_read",
                                         "cache_write", "cache_write_1h", "reasoning"};
  for (const meter::Unit unit : meter::kAllUnits) known.push_back(meter::unitPriceKey(unit));
  known.insert(known.end(), extra_keys.begin(), extra_keys.end());
  forEachEntry(value, path, false,
               [&](const std::string& key, const YAML::Node&, const std::string& key_path) {
                 if (std::find(known.begin(), known.end(), key) == known.end()) {
                   error(key_path, "unknown key");
                 }
               });
  bool ok = true;
  auto read = [&](std::string_view key, bool required) {
    std::optional<meter::PicoPerToken> out;
    const std::string key_path = keyPath(path, key);
    if (auto n = child(value, key)) {
      out = price(*n, key_path);
      if (!out) ok = false;
    } else if (required) {
      error(key_path, "is required");
      ok = false;
    }
    return out;
  };
  const auto input = read("input", true);
  const auto output = read("output", true);
  const auto cache_read = read("cache_read", false);
  const auto cache_write = read("cache_write", false);
  const auto cache_write_1h = read("cache_write_1h", false);
  const auto reasoning = read("reasoning", false);
  // The line items' prices (price_book.h): per 1M tokens for the token kinds, per 1,000
  // requests for the request kinds; absent ones stay kNoUnitPrice.
  std::array<int64_t, meter::kUnitCount> unit_prices;
  unit_prices.fill(meter::kNoUnitPrice);
  for (const meter::Unit unit : meter::kAllUnits) {
    const std::string_view key = meter::unitPriceKey(unit);
    auto n = child(value, key);
    if (!n) continue;
    const std::string key_path = keyPath(path, key);
    std::optional<int64_t> parsed;
    if (meter::isRequestUnit(unit)) {
      if (auto text = scalar(*n, key_path, "a decimal string of USD per 1,000 requests")) {
        parsed = meter::parsePerThousandPrice(*text);
        if (!parsed) {
          error(key_path,
                "expected a non-negative decimal string of USD per 1,000 requests with at most 9 "
                "fraction digits");
        }
      }
    } else {
      parsed = price(*n, key_path);
    }
    if (!parsed) {
      ok = false;
      continue;
    }
    unit_prices[meter::index(unit)] = *parsed;
  }
  if (!ok) return std::nullopt;
  meter::Price price;
  price.unit = unit_prices;
  price.input = *input;
  price.output = *output;
  price.cache_read = cache_read.value_or(*input);
  price.cache_write = cache_write.value_or(*input);
  price.cache_write_1h = cache_write_1h.value_or(price.cache_write);
  price.reasoning = reasoning.value_or(*output);
  return price;
}

// "YYYY-MM-DD" (00:00 UTC) as unix nanoseconds.
std::optional<int64_t> Loader::date(const YAML::Node& node, const std::string& path) {
  auto text = scalar(node, path, "a date YYYY-MM-DD");
  if (!text) return std::nullopt;
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text->size() != 10 || std::sscanf(text->c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
      m < 1 || m > 12 || d < 1 || d > 31 || y < 1970) {
    error(path, "expected a date YYYY-MM-DD");
    return std::nullopt;
  }
  // Days from the civil date (H. Hinnant's algorithm), then nanoseconds.
  y -= m <= 2;
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + doe - 719468;
  return days * 86'400 * 1'000'000'000;
}

void Loader::loadPriceEntry(const std::string& pattern, const YAML::Node& value,
                            const std::string& path, std::vector<meter::PriceEntry>& prices) {
  auto base =
      loadPrice(value, path,
                {"tiers", "variants", "effective_from", "effective_until", "max_context_tokens"});
  if (!base) return;
  meter::PriceEntry entry;
  entry.pattern = pattern;
  entry.price = *base;
  bool ok = true;
  if (auto n = child(value, "max_context_tokens")) {
    auto tokens = integer(*n, keyPath(path, "max_context_tokens"), 1,
                          static_cast<uint64_t>(meter::kMaxCallTokens),
                          "a positive number of tokens, at most 1000000000");
    ok = ok && tokens.has_value();
    if (tokens) entry.max_context_tokens = static_cast<int64_t>(*tokens);
  }
  if (auto n = child(value, "effective_from")) {
    auto at = date(*n, keyPath(path, "effective_from"));
    ok = ok && at.has_value();
    if (at) entry.effective_from_ns = *at;
  }
  if (auto n = child(value, "effective_until")) {
    auto at = date(*n, keyPath(path, "effective_until"));
    ok = ok && at.has_value();
    if (at) entry.effective_until_ns = *at;
  }
  if (ok && entry.effective_until_ns <= entry.effective_from_ns) {
    error(keyPath(path, "effective_until"), "must be after effective_from");
    ok = false;
  }
  // tiers: [{above_input_tokens: N, input: ..., output: ...}], ascending thresholds.
  auto loadTiers = [&](const YAML::Node& owner, const std::string& owner_path,
                       std::vector<meter::PriceTier>& tiers) {
    auto n = child(owner, "tiers");
    if (!n) return;
    const std::string tiers_path = keyPath(owner_path, "tiers");
    if (!n->IsSequence()) {
      error(tiers_path, "expected a list of {above_input_tokens, input, output, ...}");
      ok = false;
      return;
    }
    for (size_t i = 0; i < n->size(); ++i) {
      const std::string tier_path = tiers_path + "[" + std::to_string(i) + "]";
      const YAML::Node tier_node = (*n)[i];
      auto tier_price = loadPrice(tier_node, tier_path, {"above_input_tokens"});
      std::optional<uint64_t> above;
      if (auto t = child(tier_node, "above_input_tokens")) {
        above = integer(*t, keyPath(tier_path, "above_input_tokens"), 1, INT64_MAX,
                        "a positive number of input tokens");
      } else if (tier_node.IsMap()) {
        error(keyPath(tier_path, "above_input_tokens"), "is required");
      }
      if (!tier_price || !above) {
        ok = false;
        continue;
      }
      if (!tiers.empty() && static_cast<int64_t>(*above) <= tiers.back().above_input_tokens) {
        error(keyPath(tier_path, "above_input_tokens"), "tiers must have ascending thresholds");
        ok = false;
        continue;
      }
      tiers.push_back({static_cast<int64_t>(*above), *tier_price});
    }
  };
  loadTiers(value, path, entry.tiers);
  std::vector<meter::PriceEntry> variants;
  if (auto n = child(value, "variants")) {
    const std::string variants_path = keyPath(path, "variants");
    if (checkSection(*n, variants_path, {"batch", "priority", "flex"})) {
      forEachEntry(*n, variants_path, false,
                   [&](const std::string& name, const YAML::Node& v, const std::string& v_path) {
                     auto variant_price = loadPrice(v, v_path, {"tiers"});
                     if (!variant_price) {
                       ok = false;
                       return;
                     }
                     meter::PriceEntry variant = entry;
                     variant.price = *variant_price;
                     variant.tiers.clear();
                     variant.variant = name;
                     loadTiers(v, v_path, variant.tiers);
                     variants.push_back(std::move(variant));
                   });
    }
  }
  if (!ok) return;
  prices.push_back(std::move(entry));
  for (auto& variant : variants) prices.push_back(std::move(variant));
}

// The bundled catalog (config/prices.default.yaml), the base under the user's prices.
void Loader::loadDefaultPrices(Config& config) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(defaultPriceCatalogYaml()));
  } catch (const YAML::ParserException& e) {
    error("price_defaults", "the bundled price catalog does not parse: " + e.msg);
    return;
  }
  std::string version = "default";
  if (auto n = child(root, "version")) {
    if (auto text = nonEmptyString(*n, "price_defaults.version")) version = *text;
  }
  if (auto n = child(root, "prices")) {
    loadPrices(*n, config.default_prices, "price_defaults.prices");
  }
  for (auto& entry : config.default_prices) entry.catalog = version;
}

// A model glob is taken as covered when some price glob matches its text: "gpt-4o*" matches
// the price "gpt-4o*" (the star matches itself) but "*" is only covered by a price "*".
void Loader::addPriceWarnings(Config& config) {
  for (size_t u = 0; u < config.upstreams.size(); ++u) {
    const auto& models = config.upstreams[u].models;
    for (size_t m = 0; m < models.size(); ++m) {
      const bool covered = std::any_of(
          config.prices.begin(), config.prices.end(),
          [&](const auto& entry) { return meter::globMatch(entry.pattern, models[m]); });
      if (!covered) {
        config.warnings.push_back(indexPath(indexPath("upstreams", u) + ".models", m) +
                                  ": models matching " + quoteKey(models[m]) +
                                  " may have no price (their events will say \"priced\": "
                                  "false)");
      }
    }
  }
}

}  // namespace tollgate::config
