#include "ledger/html_report.h"

#include <algorithm>
#include <map>

namespace tollgate::ledger {
namespace {

constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                    "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
constexpr size_t kMaxTeams = 7;  // beyond: "other teams"
constexpr int kWidth = 720;
constexpr int kHeight = 240;
constexpr int kLeft = 70;
constexpr int kBottom = 30;

std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string cents(Amount a) { return roundedQuotient(a.pico(), 1'000'000'000'000, 2, 2); }

// Pixels from exact amounts: integer arithmetic, no money through floating point.
int scaled(__int128 value, __int128 max, int pixels) {
  if (max <= 0 || value <= 0) return 0;
  return static_cast<int>(value * pixels / max);
}

std::string teamName(const std::string& team) { return team.empty() ? "(no team)" : team; }

void metricCard(std::string& out, const char* id, const std::string& name,
                const std::string& value) {
  out += "<div class=\"metric\" data-metric=\"" + std::string(id) + "\"><div class=\"value\">" +
         escape(value) + "</div><div class=\"name\">" + escape(name) + "</div></div>";
}

void spendByTeam(std::string& out, const LedgerData& data) {
  // Metered spend per day and team; the largest teams get their own colour.
  std::map<std::string, Amount> team_totals;
  for (const auto& [key, t] : data.rollups)
    team_totals[labelOf(key.labels, Label::kTeam)] += t.cost_total;
  std::vector<std::pair<std::string, Amount>> ranked(team_totals.begin(), team_totals.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::map<std::string, size_t> series;
  std::vector<std::string> names;
  for (const auto& [team, total] : ranked) {
    if (names.size() == kMaxTeams) break;
    series[team] = names.size();
    names.push_back(teamName(team));
  }
  const bool other = ranked.size() > kMaxTeams;
  if (other) names.push_back("other teams");
  const int64_t days = (data.period.end_hour - data.period.start_hour) / 24;
  std::vector<std::vector<Amount>> per_day(static_cast<size_t>(std::max<int64_t>(days, 1)),
                                           std::vector<Amount>(names.size()));
  for (const auto& [key, t] : data.rollups) {
    const auto day = static_cast<size_t>((key.hour - data.period.start_hour) / 24);
    if (day >= per_day.size()) continue;
    auto it = series.find(labelOf(key.labels, Label::kTeam));
    per_day[day][it != series.end() ? it->second : names.size() - 1] += t.cost_total;
  }
  Amount max;
  for (const auto& day : per_day) {
    Amount total;
    for (const auto& a : day) total += a;
    max = std::max(max, total);
  }
  const int plot_h = kHeight - kBottom - 10;
  const int bar_w = (kWidth - kLeft - 10) / static_cast<int>(per_day.size());
  out += "<svg id=\"chart-spend-by-team\" class=\"chart\" viewBox=\"0 0 " + std::to_string(kWidth) +
         " " + std::to_string(kHeight) +
         "\" role=\"img\" aria-label=\"Metered spend by team per day\">";
  out += "<text x=\"4\" y=\"14\" class=\"axis\">$" + cents(max) + "</text>";
  out += "<line x1=\"" + std::to_string(kLeft) + "\" y1=\"" + std::to_string(10 + plot_h) +
         "\" x2=\"" + std::to_string(kWidth - 10) + "\" y2=\"" + std::to_string(10 + plot_h) +
         "\" class=\"axisline\"/>";
  for (size_t d = 0; d < per_day.size(); ++d) {
    int y = 10 + plot_h;
    const int x = kLeft + static_cast<int>(d) * bar_w;
    for (size_t s = 0; s < names.size(); ++s) {
      const int h = scaled(per_day[d][s].pico(), max.pico(), plot_h);
      if (h == 0) continue;
      y -= h;
      out += "<rect class=\"bar\" data-team=\"" + escape(names[s]) + "\" x=\"" +
             std::to_string(x + 1) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
             std::to_string(std::max(bar_w - 2, 1)) + "\" height=\"" + std::to_string(h) +
             "\" fill=\"" + kPalette[s % 8] + "\"><title>" +
             formatDay(data.period.start_hour + 24 * static_cast<int64_t>(d)) + " " +
             escape(names[s]) + ": $" + per_day[d][s].toDecimalString() + "</title></rect>";
    }
    if (d % 5 == 0) {
      out += "<text x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(kHeight - 8) +
             "\" class=\"axis\">" +
             formatDay(data.period.start_hour + 24 * static_cast<int64_t>(d)).substr(5) + "</text>";
    }
  }
  out += "</svg><div class=\"legend\">";
  for (size_t s = 0; s < names.size(); ++s) {
    out += "<span><i style=\"background:" + std::string(kPalette[s % 8]) + "\"></i>" +
           escape(names[s]) + "</span>";
  }
  out += "</div>";
}

void unitCostTrend(std::string& out, const Report& r) {
  out += "<svg id=\"chart-unit-cost-trend\" class=\"chart\" viewBox=\"0 0 " +
         std::to_string(kWidth) + " " + std::to_string(kHeight) +
         "\" role=\"img\" aria-label=\"Cost per 1k tokens by week\">";
  // Picodollars per 1k tokens per week, as exact integers for the scale.
  std::vector<__int128> values;
  __int128 max = 0;
  for (const auto& w : r.cost_per_1k_tokens_trend) {
    const __int128 v = w.tokens == 0 ? 0 : w.metered.pico() * 1000 / w.tokens;
    values.push_back(v);
    max = std::max(max, v);
  }
  const int plot_h = kHeight - kBottom - 20;
  const int n = static_cast<int>(values.size());
  const int step = n > 1 ? (kWidth - kLeft - 90) / (n - 1) : 0;
  std::string points;
  for (int i = 0; i < n; ++i) {
    const int x = kLeft + 10 + i * step;
    const int y = 20 + plot_h - scaled(values[static_cast<size_t>(i)], max, plot_h);
    points += (i ? " " : "") + std::to_string(x) + "," + std::to_string(y);
    const auto& w = r.cost_per_1k_tokens_trend[static_cast<size_t>(i)];
    out += "<circle class=\"point\" cx=\"" + std::to_string(x) + "\" cy=\"" + std::to_string(y) +
           "\" r=\"4\"><title>" + w.week + ": $" + escape(w.per_1k_tokens) +
           " per 1k tokens</title></circle>";
    out += "<text x=\"" + std::to_string(x - 20) + "\" y=\"" + std::to_string(kHeight - 8) +
           "\" class=\"axis\">" + w.week + "</text>";
    out += "<text x=\"" + std::to_string(x - 20) + "\" y=\"" + std::to_string(y - 8) +
           "\" class=\"axis\">$" + escape(w.per_1k_tokens.substr(0, 10)) + "</text>";
  }
  if (n > 1) out += "<polyline class=\"trend\" points=\"" + points + "\"/>";
  if (n == 0) out += "<text x=\"20\" y=\"40\">no metered tokens in this period</text>";
  out += "</svg>";
}

void unallocatedShare(std::string& out, const Report& r) {
  const int w = kWidth - 20;
  const int unallocated_w = scaled(r.unallocated.pico(), r.total.pico(), w);
  out += "<svg id=\"chart-unallocated-share\" class=\"chart\" viewBox=\"0 0 " +
         std::to_string(kWidth) + " 70\" role=\"img\" aria-label=\"Unallocated share of spend\">";
  out += "<rect class=\"allocated\" x=\"10\" y=\"10\" width=\"" +
         std::to_string(w - unallocated_w) +
         "\" height=\"30\" fill=\"#59a14f\"><title>allocated: $" +
         (r.total - r.unallocated).toDecimalString() + "</title></rect>";
  out += "<rect class=\"unallocated\" x=\"" + std::to_string(10 + w - unallocated_w) +
         "\" y=\"10\" width=\"" + std::to_string(unallocated_w) +
         "\" height=\"30\" fill=\"#e15759\"><title>unallocated: $" +
         r.unallocated.toDecimalString() + "</title></rect>";
  out += "<text x=\"10\" y=\"60\">allocated $" + cents(r.total - r.unallocated) +
         " · unallocated $" + cents(r.unallocated) + " (" + escape(r.unallocated_pct) +
         " %)</text></svg>";
}

void budgetVariance(std::string& out, const Report& r) {
  const int row_h = 34;
  const int h = std::max(1, static_cast<int>(r.budget_variance.size())) * row_h + 20;
  out += "<svg id=\"chart-budget-variance\" class=\"chart\" viewBox=\"0 0 " +
         std::to_string(kWidth) + " " + std::to_string(h) +
         "\" role=\"img\" aria-label=\"Budget variance\">";
  if (r.budget_variance.empty()) {
    out += "<text x=\"10\" y=\"30\">no budgets in the gateway config</text>";
  }
  __int128 max = 0;
  for (const auto& b : r.budget_variance) max = std::max({max, b.limit.pico(), b.actual.pico()});
  const int bar_max = kWidth - 260;
  for (size_t i = 0; i < r.budget_variance.size(); ++i) {
    const auto& b = r.budget_variance[i];
    const int y = 10 + static_cast<int>(i) * row_h;
    const bool over = b.variance_usd != "n/a" && b.actual > b.limit;
    out += "<text x=\"4\" y=\"" + std::to_string(y + 16) + "\" class=\"axis\">" + escape(b.name) +
           "</text>";
    out += "<rect class=\"budget-actual\" x=\"150\" y=\"" + std::to_string(y + 4) + "\" width=\"" +
           std::to_string(scaled(b.actual.pico(), max, bar_max)) + "\" height=\"16\" fill=\"" +
           (over ? "#e15759" : "#4e79a7") + "\"><title>" + escape(b.scope) + ": $" +
           b.actual.toDecimalString() + " of $" + b.limit.toDecimalString() + "</title></rect>";
    const int limit_x = 150 + scaled(b.limit.pico(), max, bar_max);
    out += "<line class=\"budget-limit\" x1=\"" + std::to_string(limit_x) + "\" y1=\"" +
           std::to_string(y) + "\" x2=\"" + std::to_string(limit_x) + "\" y2=\"" +
           std::to_string(y + 24) + "\"/>";
    out += "<text x=\"" + std::to_string(160 + bar_max) + "\" y=\"" + std::to_string(y + 16) +
           "\" class=\"axis\">" + escape(b.variance_usd == "n/a" ? "n/a" : b.variance_pct + " %") +
           "</text>";
  }
  out += "</svg>";
}

}  // namespace

// Each pool's cost with a bar split busy / idle (widths from exact picodollars), then its
// shares by team and model.
void gpuPools(std::string& out, const GpuPoolReport& gpu) {
  out +=
      "<section id=\"gpu-pools\"><h2>Self-hosted GPU pools (not in the total)</h2><table>"
      "<tr><th>pool</th><th>cost</th><th>busy / idle</th><th>idle %</th>"
      "<th>per 1k tokens</th><th>managed per 1k tokens</th></tr>";
  for (const auto& p : gpu.pools) {
    if (!p.error.empty()) {
      out +=
          "<tr><td>" + escape(p.name) + "</td><td colspan=\"5\">" + escape(p.error) + "</td></tr>";
      continue;
    }
    const int busy_px = scaled(p.busy.pico(), p.cost.pico(), 200);
    out += "<tr><td>" + escape(p.name) + "</td><td class=\"num\">$" + cents(p.cost) +
           "</td><td><svg class=\"gpu-busy-idle\" width=\"200\" height=\"12\">"
           "<rect class=\"busy\" fill=\"#4e79a7\" width=\"" +
           std::to_string(busy_px) +
           "\" height=\"12\"/><rect class=\"idle\" fill=\"#bab0ac\" x=\"" +
           std::to_string(busy_px) + "\" width=\"" + std::to_string(200 - busy_px) +
           "\" height=\"12\"/></svg> $" + cents(p.busy) + " / $" + cents(p.idle) +
           "</td><td class=\"num\">" + escape(p.idle_pct) + "</td><td class=\"num\">" +
           escape(p.per_1k_tokens_usd) + "</td><td class=\"num\">" +
           escape(p.compare_with.empty() ? "n/a"
                                         : p.compare_with + ": " + p.managed_per_1k_tokens_usd) +
           "</td></tr>";
  }
  out +=
      "</table><table><tr><th>pool</th><th>by</th><th>value</th><th>calls</th><th>cost</th>"
      "</tr>";
  const std::pair<const char*, const std::vector<GpuPoolGroup>*> groups[] = {
      {"team", &gpu.by_team}, {"model", &gpu.by_model}};
  for (const auto& [label, list] : groups) {
    for (const auto& g : *list) {
      out += "<tr><td>" + escape(g.pool) + "</td><td>" + label + "</td><td>" +
             escape(g.value.empty() ? "(none)" : g.value) + "</td><td class=\"num\">" +
             std::to_string(g.calls) + "</td><td class=\"num\">$" + cents(g.cost) + "</td></tr>";
    }
  }
  out += "</table></section>\n";
}

std::string formatHtml(const LedgerData& data, const Report& r) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>Tollgate ledger " +
      escape(r.period.name) +
      "</title><style>"
      "body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:780px}"
      "h1{font-size:22px}h2{font-size:16px;margin-top:28px}"
      ".metrics{display:flex;flex-wrap:wrap;gap:10px}"
      ".metric{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}"
      ".metric .value{font-size:18px;font-weight:600}.metric .name{color:#666;font-size:12px}"
      ".chart{width:100%;height:auto;border:1px solid #eee}.axis{font-size:11px;fill:#555}"
      ".axisline{stroke:#999}.trend{fill:none;stroke:#4e79a7;stroke-width:2}"
      ".point{fill:#4e79a7}.budget-limit{stroke:#222;stroke-width:2}"
      ".legend span{margin-right:12px;font-size:12px}"
      ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px}"
      "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;"
      "text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}"
      "</style></head><body>\n";
  out += "<h1>Tollgate ledger: " + escape(r.period.name) + "</h1>";
  out += "<p>Total <b>$" + r.total.toFixedString(2) + "</b> (metered $" +
         r.metered.toFixedString(2) + ", imported $" + r.imported.toFixedString(2) + "), " +
         std::to_string(r.events) + " events, " + std::to_string(r.unpriced_events) +
         " not priced.</p>\n";

  out += "<section id=\"review-metrics\"><h2>The five review metrics</h2><div class=\"metrics\">";
  metricCard(out, "gpu_idle_pct", "GPU idle %", r.gpu_idle_pct);
  const std::string trend = r.cost_per_1k_tokens_trend.empty()
                                ? "n/a"
                                : "$" + r.cost_per_1k_tokens_trend.back().per_1k_tokens;
  metricCard(out, "cost_per_1k_tokens_trend", "cost per 1k tokens, last week", trend);
  metricCard(out, "paved_road_pct", "paved road %", r.paved_road_pct);
  metricCard(out, "unallocated_pct", "unallocated %", r.unallocated_pct);
  size_t over = 0;
  size_t compared = 0;
  for (const auto& b : r.budget_variance) {
    if (b.variance_usd == "n/a") continue;
    ++compared;
    over += b.actual > b.limit ? 1 : 0;
  }
  metricCard(out, "budget_variance", "budgets over limit",
             std::to_string(over) + " of " + std::to_string(compared));
  out += "</div></section>\n";

  out += "<section id=\"spend-by-team\"><h2>Metered spend by team per day</h2>";
  spendByTeam(out, data);
  out += "</section>\n<section id=\"unit-cost-trend\"><h2>Cost per 1k tokens by week</h2>";
  unitCostTrend(out, r);
  out += "</section>\n<section id=\"unallocated-share\"><h2>Unallocated share</h2>";
  unallocatedShare(out, r);
  out += "</section>\n<section id=\"budget-variance\"><h2>Budget variance</h2>";
  budgetVariance(out, r);
  out += "</section>\n";

  out += "<section id=\"chargeback\"><h2>Chargeback by cost centre</h2><table>";
  for (const auto& c : r.chargeback) {
    out += "<tr><td>" + escape(c.cost_center.empty() ? "unallocated" : c.cost_center) +
           "</td><td class=\"num\">$" + c.cost.toFixedString(2) + "</td></tr>";
  }
  out += "<tr><th>total</th><th class=\"num\">$" + r.total.toFixedString(2) +
         "</th></tr></table></section>\n";
  const UnitCosts& u = r.unit_costs;
  out += "<section id=\"unit-costs\"><h2>Unit economics (USD)</h2><table>";
  const std::pair<const char*, const std::string*> unit_rows[] = {
      {"per 1k inferences, pure token cost", &u.per_1k_inferences_pure_token},
      {"per 1k inferences, fully loaded", &u.per_1k_inferences_fully_loaded},
      {"per 1k input tokens", &u.per_1k_input_tokens},
      {"per 1k output tokens", &u.per_1k_output_tokens},
      {"per 1k tokens, blended", &u.per_1k_tokens_blended},
      {"per completed training run", &u.per_completed_run}};
  for (const auto& [name, value] : unit_rows) {
    out +=
        "<tr><td>" + std::string(name) + "</td><td class=\"num\">" + escape(*value) + "</td></tr>";
  }
  out += "</table></section>\n";
  if (!r.gpu.pools.empty()) gpuPools(out, r.gpu);
  out += "<section id=\"showback\"><h2>Showback</h2><table><tr>";
  for (const auto l : r.by) out += "<th>" + std::string(labelName(l)) + "</th>";
  out += "<th>cost</th></tr>";
  for (const auto& row : r.rows) {
    out += "<tr>";
    for (const auto& v : row.labels) out += "<td>" + escape(v.empty() ? "(none)" : v) + "</td>";
    out += "<td class=\"num\">$" + row.cost.toFixedString(2) + "</td></tr>";
  }
  out += "</table></section>\n</body></html>\n";
  return out;
}

}  // namespace tollgate::ledger
