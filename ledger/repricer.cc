#include "ledger/repricer.h"

#include <cstdint>
#include <map>

#include "config/config_loader.h"
#include "ledger/yaml_text.h"

namespace tollgate::ledger {
namespace {

constexpr int64_t kNsPerHour = 3'600'000'000'000;

// The five token sums of a bucket or of an other_model line item, as usage to price.
template <class Totals>
meter::Usage tokenUsage(const Totals& t) {
  meter::Usage usage;
  usage.input_tokens = t.input_tokens;
  usage.cache_read_tokens = t.cache_read_tokens;
  usage.cache_write_tokens = t.cache_write_tokens;
  usage.output_tokens = t.output_tokens;
  usage.reasoning_tokens = t.reasoning_tokens;
  return usage;
}

}  // namespace

std::variant<std::shared_ptr<const meter::PriceBook>, ConfigErrors> parsePriceCatalog(
    std::string_view yaml_text) {
  ConfigErrors yaml_errors;
  auto loaded = loadYamlText(yaml_text, yaml_errors);
  if (!loaded) return yaml_errors;
  const YAML::Node root = *loaded;
  if (!root.IsMap() || !root["prices"]) return ConfigErrors{{"prices", "is required"}};
  // config/ parses whole gateway configs only: the catalog's keys go into a minimal one.
  YAML::Node gateway;
  for (const char* key : {"prices", "price_version", "price_defaults"}) {
    if (root[key]) gateway[key] = root[key];
  }
  YAML::Node upstream;
  upstream["name"] = "reprice";
  upstream["dialect"] = "openai";
  upstream["base_url"] = "http://127.0.0.1:1";
  upstream["models"].push_back("*");
  gateway["upstreams"].push_back(upstream);
  YAML::Emitter emitter;
  emitter << gateway;
  auto parsed = config::parseConfig(emitter.c_str(),
                                    [](std::string_view) { return std::optional<std::string>(); });
  if (auto* errors = std::get_if<std::vector<config::ConfigError>>(&parsed)) return *errors;
  auto& c = std::get<config::Config>(parsed);
  return std::make_shared<const meter::PriceBook>(c.price_catalog_version, std::move(c.prices),
                                                  std::move(c.default_prices));
}

RepriceResult reprice(const LedgerData& data, const meter::PriceBook& book,
                      const std::vector<Label>& by) {
  RepriceResult result;
  result.catalog_version = book.version();
  std::map<std::vector<std::string>, RepriceRow> rows;
  for (const auto& [key, t] : data.rollups) {
    std::vector<std::string> labels;
    for (const auto l : by) labels.push_back(labelOf(key.labels, l));
    RepriceRow& row = rows[labels];
    row.old_cost += t.cost_total;
    result.old_total += t.cost_total;
    const int64_t at_ns = key.hour * kNsPerHour;
    __int128 pico = 0;
    for (const auto& [item_key, item] : t.line_items) {
      if (item_key.item != "other_model") continue;
      const auto* other = book.find(item_key.model, "", at_ns);
      if (other == nullptr) {
        result.other_model_calls_unpriced_new += item.quantity;
        continue;
      }
      const auto cost = meter::computeCost(other->price, tokenUsage(item));
      if (!other->tiers.empty() || cost.total.pico() == INT64_MAX) ++result.inexact_buckets;
      pico += cost.total.pico();
    }
    const auto* entry = book.find(labelOf(key.labels, Label::kModel), "", at_ns);
    if (entry == nullptr) {
      result.events_unpriced_new += t.events;
      row.new_cost += Amount::fromPico(pico);
      result.new_total += Amount::fromPico(pico);
      continue;
    }
    meter::Usage usage = tokenUsage(t);
    for (const meter::Unit unit : meter::kAllUnits) {
      const auto it = t.line_items.find(LineItemKey{std::string(meter::toString(unit)), ""});
      if (it != t.line_items.end()) usage[unit] = it->second.quantity;
    }
    // The meter's own cost arithmetic, on the bucket's sums (see RepriceResult).
    const auto cost = meter::computeCost(entry->price, usage);
    if (!entry->tiers.empty() || cost.total.pico() == INT64_MAX) ++result.inexact_buckets;
    pico += cost.total.pico();
    row.new_cost += Amount::fromPico(pico);
    result.new_total += Amount::fromPico(pico);
  }
  for (auto& [labels, row] : rows) {
    row.labels = labels;
    result.rows.push_back(std::move(row));
  }
  return result;
}

}  // namespace tollgate::ledger
