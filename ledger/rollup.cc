#include "ledger/rollup.h"

namespace tollgate::ledger {

void RollupTotals::add(const CostRecord& r) {
  ++events;
  if (r.completed_inference) ++inferences;
  if (!r.priced) ++unpriced_events;
  input_tokens += r.usage.input_tokens;
  cache_read_tokens += r.usage.cache_read_tokens;
  cache_write_tokens += r.usage.cache_write_tokens;
  output_tokens += r.usage.output_tokens;
  reasoning_tokens += r.usage.reasoning_tokens;
  cost_input += Amount::fromMoney(r.cost.input);
  cost_cache_read += Amount::fromMoney(r.cost.cache_read);
  cost_cache_write += Amount::fromMoney(r.cost.cache_write);
  cost_output += Amount::fromMoney(r.cost.output);
  cost_total += Amount::fromMoney(r.cost.total);
  for (const meter::Unit unit : meter::kAllUnits) {
    const int64_t count = r.usage[unit];
    if (count == 0) continue;
    LineItemTotals& item = line_items[LineItemKey{std::string(meter::toString(unit)), ""}];
    item.quantity += count;
    item.cost += Amount::fromMoney(r.cost.units[meter::index(unit)]);
  }
  for (const OtherModelItem& other : r.other_models) {
    LineItemTotals& item = line_items[LineItemKey{"other_model", other.model}];
    ++item.quantity;
    item.input_tokens += other.usage.input_tokens;
    item.cache_read_tokens += other.usage.cache_read_tokens;
    item.cache_write_tokens += other.usage.cache_write_tokens;
    item.output_tokens += other.usage.output_tokens;
    item.reasoning_tokens += other.usage.reasoning_tokens;
    item.cost += Amount::fromMoney(other.cost);
  }
}

void LineItemTotals::merge(const LineItemTotals& o) {
  quantity += o.quantity;
  input_tokens += o.input_tokens;
  cache_read_tokens += o.cache_read_tokens;
  cache_write_tokens += o.cache_write_tokens;
  output_tokens += o.output_tokens;
  reasoning_tokens += o.reasoning_tokens;
  cost += o.cost;
}

void RollupTotals::merge(const RollupTotals& o) {
  events += o.events;
  inferences += o.inferences;
  unpriced_events += o.unpriced_events;
  input_tokens += o.input_tokens;
  cache_read_tokens += o.cache_read_tokens;
  cache_write_tokens += o.cache_write_tokens;
  output_tokens += o.output_tokens;
  reasoning_tokens += o.reasoning_tokens;
  cost_input += o.cost_input;
  cost_cache_read += o.cost_cache_read;
  cost_cache_write += o.cost_cache_write;
  cost_output += o.cost_output;
  cost_total += o.cost_total;
  for (const auto& [key, item] : o.line_items) line_items[key].merge(item);
}

}  // namespace tollgate::ledger
