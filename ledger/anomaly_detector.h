#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/amount.h"
#include "ledger/calendar.h"
#include "ledger/decimal.h"
#include "ledger/labels.h"
#include "ledger/rollup.h"

namespace tollgate::ledger {

// A spend anomaly rule (ledger config `anomalies:`): metered spend per scope (the `by` labels)
// per hour or day, against the same scope's own trailing baseline.
struct AnomalyRule {
  std::string name;
  std::vector<Label> by;
  int64_t window_hours = 1;                  // window: hour (1) | day (24)
  int64_t baseline_windows = 24;             // how many windows before the one under test
  int64_t min_samples = 6;                   // baseline windows with spend needed to judge at all
  Amount min_amount;                         // a window below this is never an anomaly
  Decimal factor = Decimal::fromInteger(3);  // flagged above factor x the baseline's mean
};

struct Anomaly {
  std::string rule;
  std::vector<Label> by;
  std::vector<std::string> scope;  // one value per `by` label
  int64_t window_start_hour = 0;
  int64_t window_hours = 1;
  Amount spend;
  Amount baseline_sum;
  int64_t baseline_samples = 0;
  std::string baseline_mean_usd;  // baseline_sum / baseline_samples, rounded to the picodollar
  std::string ratio;              // spend / baseline mean, 4 fraction digits
};

// Every window of `period` whose spend exceeds factor x the mean of the baseline windows with
// spend (the window under test is never part of its own baseline), when the baseline has at
// least min_samples such windows and the spend is at least min_amount. `rollups` must reach
// back baseline_windows windows before the period. Comparisons are exact (integers).
std::vector<Anomaly> detectAnomalies(const Rollups& rollups, const Period& period,
                                     const AnomalyRule& rule);

}  // namespace tollgate::ledger
