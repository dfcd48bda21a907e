#include "ledger/anomaly_detector.h"

#include <map>

namespace tollgate::ledger {
namespace {

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::vector<Anomaly> detectAnomalies(const Rollups& rollups, const Period& period,
                                     const AnomalyRule& rule) {
  // scope -> window index -> spend
  std::map<std::vector<std::string>, std::map<int64_t, Amount>> series;
  for (const auto& [key, totals] : rollups) {
    std::vector<std::string> scope;
    for (const auto l : rule.by) scope.push_back(labelOf(key.labels, l));
    series[scope][floorDiv(key.hour, rule.window_hours)] += totals.cost_total;
  }
  const int64_t first = floorDiv(period.start_hour, rule.window_hours);
  const int64_t last = floorDiv(period.end_hour - 1, rule.window_hours);
  std::vector<Anomaly> out;
  for (const auto& [scope, windows] : series) {
    for (auto it = windows.lower_bound(first); it != windows.end() && it->first <= last; ++it) {
      const Amount spend = it->second;
      if (spend < rule.min_amount || spend.isZero()) continue;
      Amount sum;
      int64_t samples = 0;
      for (auto b = windows.lower_bound(it->first - rule.baseline_windows); b != it; ++b) {
        if (b->second.isZero()) continue;
        sum += b->second;
        ++samples;
      }
      if (samples < rule.min_samples) continue;
      // spend > factor x sum / samples  <=>  spend x samples x 10^s > factor_units x sum
      const __int128 lhs = spend.pico() * samples * powerOfTen(rule.factor.scale());
      const __int128 rhs = rule.factor.units() * sum.pico();
      if (lhs <= rhs) continue;
      Anomaly a;
      a.rule = rule.name;
      a.by = rule.by;
      a.scope = scope;
      a.window_start_hour = it->first * rule.window_hours;
      a.window_hours = rule.window_hours;
      a.spend = spend;
      a.baseline_sum = sum;
      a.baseline_samples = samples;
      a.baseline_mean_usd =
          roundedQuotient(sum.pico(), __int128{samples} * 1'000'000'000'000, 12, 2);
      a.ratio = roundedQuotient(spend.pico() * samples, sum.pico(), 4, 0);
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace tollgate::ledger
