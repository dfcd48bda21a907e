#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/allocation.h"
#include "ledger/anomaly_detector.h"
#include "ledger/calendar.h"
#include "ledger/gpu_pool_report.h"
#include "ledger/ledger_config.h"
#include "ledger/pool_call.h"
#include "ledger/rollup.h"

namespace tollgate::ledger {

// What a report is computed from: the period's rollups and imported lines (already loaded
// from the store), the allocation rules and the gateway's budgets.
struct LedgerData {
  Period period;
  Rollups rollups;                   // buckets whose hour is in the period
  std::vector<ImportLine> imported;  // lines whose period_start is in the period
  std::vector<PoolCall> pool_calls;  // GPU-pool calls running at some time in the period
};

struct ShowbackRow {
  std::vector<std::string> labels;  // one value per `by` label ("" = not set)
  Amount cost;
  Amount metered;
  Amount imported;
  int64_t events = 0;
  int64_t inferences = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
};

struct ChargebackLine {
  std::string cost_center;  // "" = the unallocated line
  Amount cost;
};

// Unit costs as decimal strings (rounded half away from zero to 12 fraction digits, the one
// rounding in a report), "n/a" when the divisor is zero.
struct UnitCosts {
  int64_t inferences = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  Decimal runs_completed;
  Amount inference_spend_fully_loaded;  // metered + imported with workload_type inference
  Amount training_spend;                // imported with category or workload_type training
  std::string per_1k_inferences_pure_token;
  std::string per_1k_inferences_fully_loaded;
  std::string per_1k_input_tokens;
  std::string per_1k_output_tokens;
  std::string per_1k_tokens_blended;
  std::string per_1k_tokens_fully_loaded;
  std::string per_completed_run;
};

struct WeekTrend {
  std::string week;  // "2026-W47"
  Amount metered;
  int64_t tokens = 0;
  std::string per_1k_tokens;
};

struct BudgetVariance {
  std::string name;
  std::string scope;  // "team=fraud-platform", "all"
  std::string period;
  Amount limit;
  Amount actual;
  std::string variance_usd;  // actual - limit; "n/a" when the budget cannot be compared
  std::string variance_pct;  // of the limit
  std::string note;          // why "n/a"
};

// A line item summed over the period (v2 events): a unit, or usage on another model.
struct LineItemRow {
  std::string item;   // unit name ("web_search_requests", ...) or "other_model"
  std::string model;  // other_model: the model
  LineItemTotals totals;
};

struct Report {
  Period period;
  std::vector<Label> by;
  Amount total, metered, imported, unallocated;
  int64_t events = 0;
  int64_t unpriced_events = 0;
  std::vector<ShowbackRow> rows;           // by `by`, largest cost first, ties by labels
  std::vector<LineItemRow> line_items;     // by item, then model
  std::vector<ChargebackLine> chargeback;  // by cost centre; the unallocated line last
  UnitCosts unit_costs;
  std::string gpu_idle_pct = "n/a";  // from `gpu` (computeGpuPools); "n/a" without pools
  std::vector<WeekTrend> cost_per_1k_tokens_trend;
  std::string paved_road_pct;
  std::string unallocated_pct;
  std::vector<BudgetVariance> budget_variance;
  std::vector<AllocatedLine> allocated;  // the imported lines after allocation
  // Filled by the caller from detectAnomalies (it needs rollups from before the period).
  std::vector<Anomaly> anomalies;
  // Filled by the caller from computeGpuPools (it needs the gateway config's pools).
  GpuPoolReport gpu;
};

Report computeReport(const LedgerData& data, const std::vector<Label>& by,
                     const std::vector<AllocationRule>& rules, const std::vector<Budget>& budgets);

}  // namespace tollgate::ledger
