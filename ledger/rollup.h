#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "ledger/amount.h"
#include "ledger/cost_record.h"
#include "ledger/labels.h"

namespace tollgate::ledger {

// One rollup bucket: an hour and the full label set (which includes model, upstream,
// provider and outcome).
struct RollupKey {
  int64_t hour = 0;
  LabelValues labels;
  friend auto operator<=>(const RollupKey&, const RollupKey&) = default;
};

// A line item of a bucket (v2 events): a unit (`item` is its name, "web_search_requests",
// "audio_input_tokens", ...; `model` empty), or usage on another model (`item` "other_model").
struct LineItemKey {
  std::string item;
  std::string model;
  friend auto operator<=>(const LineItemKey&, const LineItemKey&) = default;
};

struct LineItemTotals {
  int64_t quantity = 0;  // a unit's count; for other_model, the calls that used it
  // other_model: the token counts on that model.
  int64_t input_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  Amount cost;

  void merge(const LineItemTotals& other);
  friend bool operator==(const LineItemTotals&, const LineItemTotals&) = default;
};

using LineItems = std::map<LineItemKey, LineItemTotals>;

// Exact sums over the events of one bucket. The token counts are kept per kind, so a bucket
// can be repriced with another catalog (exactly, for prices without long-context tiers).
struct RollupTotals {
  int64_t events = 0;
  int64_t inferences = 0;       // completed requests (see CostRecord::completed_inference)
  int64_t unpriced_events = 0;  // `priced: false`: their cost is 0, the review must see them
  int64_t input_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  Amount cost_input, cost_cache_read, cost_cache_write, cost_output, cost_total;
  // v2's line items, summed (stored beside the bucket: the stores' rollup_line_item table).
  LineItems line_items;

  void add(const CostRecord& record);
  void merge(const RollupTotals& other);
  friend bool operator==(const RollupTotals&, const RollupTotals&) = default;
};

using Rollups = std::map<RollupKey, RollupTotals>;

inline void addToRollups(Rollups& rollups, const CostRecord& record) {
  rollups[RollupKey{record.hour, record.labels}].add(record);
}

}  // namespace tollgate::ledger
