#include "ledger/report.h"

#include <algorithm>
#include <map>

namespace tollgate::ledger {
namespace {

const Decimal kThousandth = *Decimal::parse("0.001");

Decimal thousands(int64_t count) { return Decimal::fromInteger(count) * kThousandth; }

std::vector<std::string> pick(const LabelValues& labels, const std::vector<Label>& by) {
  std::vector<std::string> out;
  out.reserve(by.size());
  for (const auto l : by) out.push_back(labelOf(labels, l));
  return out;
}

bool inScope(const Budget& budget, const LabelValues& labels) {
  for (const auto& [key, value] : budget.scope) {
    auto label = labelFromName(key);
    if (!label || labelOf(labels, *label) != value) return false;
  }
  return true;
}

bool scopeHasKeyId(const Budget& budget) {
  for (const auto& kv : budget.scope) {
    if (kv.first == "key_id") return true;
  }
  return false;
}

}  // namespace

Report computeReport(const LedgerData& data, const std::vector<Label>& by,
                     const std::vector<AllocationRule>& rules, const std::vector<Budget>& budgets) {
  Report report;
  report.period = data.period;
  report.by = by;
  report.allocated = allocate(data.imported, rules);

  std::map<std::vector<std::string>, ShowbackRow> rows;
  std::map<std::string, Amount> chargeback;
  std::map<std::string, WeekTrend> weeks;
  std::vector<Amount> budget_actual(budgets.size());
  UnitCosts& u = report.unit_costs;
  Amount input_cost, output_cost;

  LineItems line_items;
  for (const auto& [key, t] : data.rollups) {
    for (const auto& [item_key, item] : t.line_items) line_items[item_key].merge(item);
    auto& row = rows[pick(key.labels, by)];
    row.cost += t.cost_total;
    row.metered += t.cost_total;
    row.events += t.events;
    row.inferences += t.inferences;
    row.input_tokens += t.input_tokens;
    row.output_tokens += t.output_tokens;
    report.metered += t.cost_total;
    report.events += t.events;
    report.unpriced_events += t.unpriced_events;
    chargeback[labelOf(key.labels, Label::kCostCenter)] += t.cost_total;
    u.inferences += t.inferences;
    u.input_tokens += t.input_tokens;
    u.output_tokens += t.output_tokens;
    input_cost += t.cost_input + t.cost_cache_read + t.cost_cache_write;
    output_cost += t.cost_output;
    auto& week = weeks[isoWeek(key.hour)];
    week.metered += t.cost_total;
    week.tokens += t.input_tokens + t.output_tokens;
    for (size_t b = 0; b < budgets.size(); ++b) {
      if (inScope(budgets[b], key.labels)) budget_actual[b] += t.cost_total;
    }
  }
  Amount imported_inference;
  for (const auto& line : report.allocated) {
    auto& row = rows[pick(line.labels, by)];
    row.cost += line.amount;
    row.imported += line.amount;
    report.imported += line.amount;
    chargeback[labelOf(line.labels, Label::kCostCenter)] += line.amount;
    const std::string& workload = labelOf(line.labels, Label::kWorkloadType);
    if (workload == "inference") imported_inference += line.amount;
    if (workload == "training" || (line.source->category == "training" && workload.empty())) {
      u.training_spend += line.amount;
    }
    for (size_t b = 0; b < budgets.size(); ++b) {
      if (inScope(budgets[b], line.labels)) budget_actual[b] += line.amount;
    }
  }
  for (const auto& line : data.imported) u.runs_completed = u.runs_completed + line.runs_completed;
  report.total = report.metered + report.imported;

  for (auto& [labels, row] : rows) {
    row.labels = labels;
    report.rows.push_back(std::move(row));
  }
  std::stable_sort(report.rows.begin(), report.rows.end(),
                   [](const ShowbackRow& a, const ShowbackRow& b) { return a.cost > b.cost; });

  for (const auto& [center, amount] : chargeback) {
    if (!center.empty()) report.chargeback.push_back({center, amount});
  }
  if (auto it = chargeback.find(""); it != chargeback.end()) {
    report.unallocated = it->second;
    report.chargeback.push_back({"", it->second});
  }

  u.inference_spend_fully_loaded = report.metered + imported_inference;
  const Decimal k_inferences = thousands(u.inferences);
  const Decimal k_tokens = thousands(u.input_tokens + u.output_tokens);
  u.per_1k_inferences_pure_token = amountPer(report.metered, k_inferences);
  u.per_1k_inferences_fully_loaded = amountPer(u.inference_spend_fully_loaded, k_inferences);
  u.per_1k_input_tokens = amountPer(input_cost, thousands(u.input_tokens));
  u.per_1k_output_tokens = amountPer(output_cost, thousands(u.output_tokens));
  u.per_1k_tokens_blended = amountPer(report.metered, k_tokens);
  u.per_1k_tokens_fully_loaded = amountPer(u.inference_spend_fully_loaded, k_tokens);
  u.per_completed_run = amountPer(u.training_spend, u.runs_completed);

  for (auto& [name, week] : weeks) {
    week.week = name;
    week.per_1k_tokens = amountPer(week.metered, thousands(week.tokens));
    report.cost_per_1k_tokens_trend.push_back(std::move(week));
  }
  report.paved_road_pct = percentOf(report.metered, report.total);
  report.unallocated_pct = percentOf(report.unallocated, report.total);

  for (size_t b = 0; b < budgets.size(); ++b) {
    const Budget& budget = budgets[b];
    BudgetVariance v;
    v.name = budget.name;
    v.period = budget.period;
    v.limit = budget.limit;
    v.actual = budget_actual[b];
    for (const auto& [key, value] : budget.scope) {
      v.scope += (v.scope.empty() ? "" : ",") + key + "=" + value;
    }
    if (v.scope.empty()) v.scope = "all";
    if (budget.period != "month") {
      v.variance_usd = v.variance_pct = "n/a";
      v.note = "a " + budget.period + " budget is not compared with a month";
    } else if (scopeHasKeyId(budget)) {
      v.variance_usd = v.variance_pct = "n/a";
      v.note = "key_id is not a rollup label";
    } else {
      const Amount variance = v.actual - v.limit;
      v.variance_usd = variance.toFixedString(2);
      v.variance_pct = percentOf(variance, v.limit);
    }
    report.budget_variance.push_back(std::move(v));
  }
  for (const auto& [item_key, item] : line_items) {
    report.line_items.push_back(LineItemRow{item_key.item, item_key.model, item});
  }
  return report;
}

}  // namespace tollgate::ledger
