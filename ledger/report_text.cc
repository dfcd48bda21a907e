#include "ledger/report_text.h"

#include <algorithm>

namespace tollgate::ledger {
namespace {

std::string shown(const std::string& label) { return label.empty() ? "(none)" : label; }

void line(std::string& out, const std::string& name, const std::string& value) {
  out += "  " + name;
  out.append(name.size() < 40 ? 40 - name.size() : 1, ' ');
  out += value + "\n";
}

}  // namespace

std::string csvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string formatTable(const Report& r, const RepriceResult* reprice) {
  std::string out = "Tollgate ledger: " + r.period.name + " (" + formatHour(r.period.start_hour) +
                    " to " + formatHour(r.period.end_hour) + ")\n";
  out += "Total " + r.total.toFixedString(2) + " USD  (metered " + r.metered.toFixedString(2) +
         ", imported " + r.imported.toFixedString(2) + ")\n";
  out += std::to_string(r.events) + " events, " + std::to_string(r.unpriced_events) +
         " not priced\n\nShowback by ";
  for (size_t i = 0; i < r.by.size(); ++i) out += (i ? "," : "") + std::string(labelName(r.by[i]));
  out += "\n";
  for (const auto& row : r.rows) {
    std::string name;
    for (size_t i = 0; i < row.labels.size(); ++i) name += (i ? " / " : "") + shown(row.labels[i]);
    line(out, name, row.cost.toFixedString(2));
  }
  if (!r.line_items.empty()) out += "\nLine items (in the totals above)\n";
  for (const auto& item : r.line_items) {
    const std::string name = item.model.empty() ? item.item : item.item + " " + item.model;
    const std::string what = item.model.empty()
                                 ? std::to_string(item.totals.quantity)
                                 : std::to_string(item.totals.quantity) + " calls, " +
                                       std::to_string(item.totals.input_tokens) + " in / " +
                                       std::to_string(item.totals.output_tokens) + " out";
    line(out, name + " (" + what + ")", item.totals.cost.toFixedString(2));
  }
  out += "\nChargeback by cost centre\n";
  for (const auto& c : r.chargeback) {
    line(out, c.cost_center.empty() ? "unallocated" : c.cost_center, c.cost.toFixedString(2));
  }
  line(out, "total", r.total.toFixedString(2));
  const UnitCosts& u = r.unit_costs;
  out += "\nUnit economics (USD)\n";
  line(out, "per 1k inferences, pure token cost", u.per_1k_inferences_pure_token);
  line(out, "per 1k inferences, fully loaded", u.per_1k_inferences_fully_loaded);
  line(out, "per 1k input tokens", u.per_1k_input_tokens);
  line(out, "per 1k output tokens", u.per_1k_output_tokens);
  line(out, "per 1k tokens, blended", u.per_1k_tokens_blended);
  line(out, "per 1k tokens, fully loaded", u.per_1k_tokens_fully_loaded);
  line(out, "per completed training run", u.per_completed_run);
  out += "\nReview metrics\n";
  line(out, "GPU idle %", r.gpu_idle_pct);
  for (const auto& w : r.cost_per_1k_tokens_trend) {
    line(out, "cost per 1k tokens " + w.week, w.per_1k_tokens);
  }
  line(out, "paved road %", r.paved_road_pct);
  line(out, "unallocated %", r.unallocated_pct);
  for (const auto& b : r.budget_variance) {
    line(out, "budget " + b.name + " (" + b.scope + ")",
         b.actual.toFixedString(2) + " of " + b.limit.toFixedString(2) + ", variance " +
             b.variance_usd + " (" + b.variance_pct + " %)" +
             (b.note.empty() ? "" : ": " + b.note));
  }
  if (!r.gpu.pools.empty()) {
    out += "\nSelf-hosted GPU pools (not in the total above; docs/gpu-pools.md)\n";
  }
  for (const auto& p : r.gpu.pools) {
    if (!p.error.empty()) {
      line(out, "pool " + p.name, p.error);
      continue;
    }
    line(out,
         "pool " + p.name + " (" + std::to_string(p.gpus) + " GPUs x " + p.gpu_hour_usd + "/h, " +
             p.share + ")",
         p.cost.toFixedString(2));
    line(out, "  busy, shared among " + std::to_string(p.calls) + " calls",
         p.busy.toFixedString(2));
    line(out,
         std::string("  idle (") +
             (p.idle_line.isZero() && !p.idle.isZero() ? "spread over the calls" : "its own line") +
             ")",
         p.idle.toFixedString(2) + " (" + p.idle_pct + " %)");
    line(out, "  per 1k tokens, self-hosted", p.per_1k_tokens_usd);
    if (!p.compare_with.empty()) {
      line(out, "  per 1k tokens at " + p.compare_with + "'s price", p.managed_per_1k_tokens_usd);
    }
  }
  for (const auto& [label, list] : r.gpu.groupings()) {
    for (const auto& g : *list) {
      line(out, "  " + g.pool + " " + label + " " + shown(g.value),
           g.cost.toFixedString(2) + " (" + std::to_string(g.calls) + " calls, " + g.per_call_usd +
               " each)");
    }
  }
  if (!r.anomalies.empty()) out += "\nSpend anomalies\n";
  for (const auto& a : r.anomalies) {
    std::string scope;
    for (size_t i = 0; i < a.scope.size(); ++i) scope += (i ? " / " : "") + shown(a.scope[i]);
    line(out, a.rule + " " + scope + " " + formatHour(a.window_start_hour),
         a.spend.toFixedString(2) + " vs mean " + a.baseline_mean_usd + " (x" + a.ratio + ")");
  }
  if (reprice != nullptr) {
    out += "\nRepriced with catalog " + reprice->catalog_version + " (metered spend; old -> new)\n";
    for (const auto& row : reprice->rows) {
      std::string name;
      for (size_t i = 0; i < row.labels.size(); ++i)
        name += (i ? " / " : "") + shown(row.labels[i]);
      line(out, name, row.old_cost.toFixedString(2) + " -> " + row.new_cost.toFixedString(2));
    }
    line(out, "metered total",
         reprice->old_total.toFixedString(2) + " -> " + reprice->new_total.toFixedString(2) +
             " (difference " + (reprice->new_total - reprice->old_total).toFixedString(2) + ")");
    if (reprice->events_unpriced_new > 0) {
      line(out, "events without a price in the catalog",
           std::to_string(reprice->events_unpriced_new));
    }
    if (reprice->other_model_calls_unpriced_new > 0) {
      line(out, "calls' other-model usage without a price in the catalog",
           std::to_string(reprice->other_model_calls_unpriced_new));
    }
    if (reprice->inexact_buckets > 0) {
      line(out, "buckets priced at a tiered entry's base price",
           std::to_string(reprice->inexact_buckets));
    }
  }
  return out;
}

std::string formatCsv(const Report& r) {
  std::string out;
  for (const auto l : r.by) out += std::string(labelName(l)) + ",";
  out += "cost_usd,metered_usd,imported_usd,events,inferences,input_tokens,output_tokens\n";
  for (const auto& row : r.rows) {
    for (const auto& v : row.labels) out += csvField(v) + ",";
    out += row.cost.toDecimalString() + "," + row.metered.toDecimalString() + "," +
           row.imported.toDecimalString() + "," + std::to_string(row.events) + "," +
           std::to_string(row.inferences) + "," + std::to_string(row.input_tokens) + "," +
           std::to_string(row.output_tokens) + "\n";
  }
  return out;
}

}  // namespace tollgate::ledger
