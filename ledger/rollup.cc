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
}

}  // namespace tollgate::ledger
