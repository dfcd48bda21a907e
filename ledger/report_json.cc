#include "ledger/report_json.h"

#include "meter/json_escape.h"

namespace tollgate::ledger {
namespace {

class JsonOut {
 public:
  std::string out;
  void key(std::string_view k) {
    comma();
    meter::appendJsonString(k, out);
    out += ':';
    first_ = true;  // the value follows without a comma
    pending_value_ = true;
  }
  void str(std::string_view v) {
    comma();
    meter::appendJsonString(v, out);
  }
  void num(int64_t v) {
    comma();
    out += std::to_string(v);
  }
  void raw(std::string_view v) {
    comma();
    out += v;
  }
  void open(char c) {
    comma();
    out += c;
    first_ = true;
  }
  void close(char c) {
    out += c;
    first_ = false;
  }
  void field(std::string_view k, std::string_view v) {
    key(k);
    str(v);
  }
  void field(std::string_view k, int64_t v) {
    key(k);
    num(v);
  }
  void money(std::string_view k, Amount v) { field(k, v.toDecimalString()); }

 private:
  void comma() {
    if (pending_value_) {
      pending_value_ = false;
      first_ = false;
      return;
    }
    if (!first_) out += ',';
    first_ = false;
  }
  bool first_ = true;
  bool pending_value_ = false;
};

}  // namespace

std::string formatJson(const Report& r, const RepriceResult* reprice) {
  JsonOut j;
  j.open('{');
  j.field("period", r.period.name);
  j.field("period_start", formatHour(r.period.start_hour));
  j.field("period_end", formatHour(r.period.end_hour));
  j.key("by");
  j.open('[');
  for (const auto l : r.by) j.str(labelName(l));
  j.close(']');
  j.money("total_usd", r.total);
  j.money("metered_usd", r.metered);
  j.money("imported_usd", r.imported);
  j.money("unallocated_usd", r.unallocated);
  j.field("events", r.events);
  j.field("unpriced_events", r.unpriced_events);
  j.key("rows");
  j.open('[');
  for (const auto& row : r.rows) {
    j.open('{');
    j.key("labels");
    j.open('{');
    for (size_t i = 0; i < r.by.size(); ++i) j.field(labelName(r.by[i]), row.labels[i]);
    j.close('}');
    j.money("cost_usd", row.cost);
    j.money("metered_usd", row.metered);
    j.money("imported_usd", row.imported);
    j.field("events", row.events);
    j.field("inferences", row.inferences);
    j.field("input_tokens", row.input_tokens);
    j.field("output_tokens", row.output_tokens);
    j.close('}');
  }
  j.close(']');
  j.key("line_items");
  j.open('[');
  for (const auto& item : r.line_items) {
    j.open('{');
    j.field("item", item.item);
    if (!item.model.empty()) j.field("model", item.model);
    j.field("quantity", item.totals.quantity);
    if (!item.model.empty()) {
      j.field("input_tokens", item.totals.input_tokens);
      j.field("cache_read_tokens", item.totals.cache_read_tokens);
      j.field("cache_write_tokens", item.totals.cache_write_tokens);
      j.field("output_tokens", item.totals.output_tokens);
      j.field("reasoning_tokens", item.totals.reasoning_tokens);
    }
    j.money("cost_usd", item.totals.cost);
    j.close('}');
  }
  j.close(']');
  j.key("chargeback");
  j.open('[');
  for (const auto& line : r.chargeback) {
    j.open('{');
    j.field("cost_center", line.cost_center.empty() ? "unallocated" : line.cost_center);
    j.key("unallocated");
    j.raw(line.cost_center.empty() ? "true" : "false");
    j.money("cost_usd", line.cost);
    j.close('}');
  }
  j.close(']');
  const UnitCosts& u = r.unit_costs;
  j.key("unit_costs");
  j.open('{');
  j.field("inferences", u.inferences);
  j.field("input_tokens", u.input_tokens);
  j.field("output_tokens", u.output_tokens);
  j.field("runs_completed", u.runs_completed.toString());
  j.money("inference_spend_fully_loaded_usd", u.inference_spend_fully_loaded);
  j.money("training_spend_usd", u.training_spend);
  j.field("per_1k_inferences_pure_token_usd", u.per_1k_inferences_pure_token);
  j.field("per_1k_inferences_fully_loaded_usd", u.per_1k_inferences_fully_loaded);
  j.field("per_1k_input_tokens_usd", u.per_1k_input_tokens);
  j.field("per_1k_output_tokens_usd", u.per_1k_output_tokens);
  j.field("per_1k_tokens_blended_usd", u.per_1k_tokens_blended);
  j.field("per_1k_tokens_fully_loaded_usd", u.per_1k_tokens_fully_loaded);
  j.field("per_completed_run_usd", u.per_completed_run);
  j.close('}');
  j.key("review_metrics");
  j.open('{');
  j.field("gpu_idle_pct", r.gpu_idle_pct);
  j.key("cost_per_1k_tokens_trend");
  j.open('[');
  for (const auto& w : r.cost_per_1k_tokens_trend) {
    j.open('{');
    j.field("week", w.week);
    j.money("metered_usd", w.metered);
    j.field("tokens", w.tokens);
    j.field("cost_per_1k_tokens_usd", w.per_1k_tokens);
    j.close('}');
  }
  j.close(']');
  j.field("paved_road_pct", r.paved_road_pct);
  j.field("unallocated_pct", r.unallocated_pct);
  j.key("budget_variance");
  j.open('[');
  for (const auto& b : r.budget_variance) {
    j.open('{');
    j.field("budget", b.name);
    j.field("scope", b.scope);
    j.field("period", b.period);
    j.money("limit_usd", b.limit);
    j.money("actual_usd", b.actual);
    j.field("variance_usd", b.variance_usd);
    j.field("variance_pct", b.variance_pct);
    if (!b.note.empty()) j.field("note", b.note);
    j.close('}');
  }
  j.close(']');
  j.close('}');
  j.key("anomalies");
  j.open('[');
  for (const auto& a : r.anomalies) {
    j.open('{');
    j.field("rule", a.rule);
    j.key("scope");
    j.open('{');
    for (size_t i = 0; i < a.by.size(); ++i) j.field(labelName(a.by[i]), a.scope[i]);
    j.close('}');
    j.field("window_start", formatHour(a.window_start_hour));
    j.field("window_hours", a.window_hours);
    j.money("spend_usd", a.spend);
    j.field("baseline_mean_usd", a.baseline_mean_usd);
    j.field("baseline_samples", a.baseline_samples);
    j.field("ratio", a.ratio);
    j.close('}');
  }
  j.close(']');
  j.key("allocations");
  j.open('[');
  for (const auto& a : r.allocated) {
    if (a.rule.empty()) continue;
    j.open('{');
    j.field("rule", a.rule);
    j.field("description", a.source->description);
    j.key("labels");
    j.open('{');
    for (size_t l = 0; l < kAttributionLabelCount; ++l) {
      j.field(labelName(static_cast<Label>(l)), a.labels[l]);
    }
    j.close('}');
    j.money("cost_usd", a.amount);
    j.close('}');
  }
  j.close(']');
  j.key("gpu_pools");
  j.open('{');
  j.field("idle_pct", r.gpu.idle_pct);
  j.key("pools");
  j.open('[');
  for (const auto& p : r.gpu.pools) {
    j.open('{');
    j.field("name", p.name);
    j.field("gpus", static_cast<int64_t>(p.gpus));
    j.field("gpu_hour_usd", p.gpu_hour_usd);
    j.field("share", p.share);
    j.field("idle", p.idle_mode);
    j.money("cost_usd", p.cost);
    j.money("busy_usd", p.busy);
    j.money("idle_usd", p.idle);
    j.money("idle_line_usd", p.idle_line);
    j.field("idle_pct", p.idle_pct);
    j.field("calls", p.calls);
    j.field("tokens", p.tokens);
    j.field("per_1k_tokens_usd", p.per_1k_tokens_usd);
    j.field("compare_with", p.compare_with);
    j.money("compare_with_cost_usd", p.managed_cost);
    j.field("compare_with_per_1k_tokens_usd", p.managed_per_1k_tokens_usd);
    if (!p.error.empty()) j.field("error", p.error);
    j.close('}');
  }
  j.close(']');
  for (const auto& [label, list] : r.gpu.groupings()) {
    j.key(std::string("by_") + label);
    j.open('[');
    for (const auto& g : *list) {
      j.open('{');
      j.field("pool", g.pool);
      j.field(label, g.value);
      j.field("calls", g.calls);
      j.money("cost_usd", g.cost);
      j.field("per_call_usd", g.per_call_usd);
      j.close('}');
    }
    j.close(']');
  }
  j.close('}');
  if (reprice != nullptr) {
    j.key("reprice");
    j.open('{');
    j.field("catalog", reprice->catalog_version);
    j.money("old_metered_usd", reprice->old_total);
    j.money("new_metered_usd", reprice->new_total);
    j.money("difference_usd", reprice->new_total - reprice->old_total);
    j.money("old_total_usd", r.total);
    j.money("new_total_usd", r.total - reprice->old_total + reprice->new_total);
    j.field("events_unpriced_new", reprice->events_unpriced_new);
    j.field("other_model_calls_unpriced_new", reprice->other_model_calls_unpriced_new);
    j.field("inexact_buckets", reprice->inexact_buckets);
    j.key("rows");
    j.open('[');
    for (const auto& row : reprice->rows) {
      j.open('{');
      j.key("labels");
      j.open('{');
      for (size_t i = 0; i < r.by.size(); ++i) j.field(labelName(r.by[i]), row.labels[i]);
      j.close('}');
      j.money("old_usd", row.old_cost);
      j.money("new_usd", row.new_cost);
      j.money("difference_usd", row.new_cost - row.old_cost);
      j.close('}');
    }
    j.close(']');
    j.close('}');
  }
  j.close('}');
  j.out += '\n';
  return j.out;
}

}  // namespace tollgate::ledger
