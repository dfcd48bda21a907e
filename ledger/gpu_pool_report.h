#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "ledger/amount.h"
#include "ledger/calendar.h"
#include "ledger/labels.h"
#include "ledger/pool_call.h"
#include "meter/price_book.h"

namespace tollgate::ledger {

// One pool over the report period (docs/gpu-pools.md).
struct GpuPoolSummary {
  std::string name;
  uint32_t gpus = 0;
  std::string gpu_hour_usd;
  std::string share;
  std::string idle_mode;
  int64_t calls = 0;   // calls that ended in the period
  int64_t tokens = 0;  // their input + output tokens
  Amount cost;         // gpus x gpu_hour x the period's hours
  Amount busy;         // the cost of the time with a call running
  Amount idle;         // the cost of the idle time, however booked
  Amount idle_line;    // idle: separate: = idle; proportional: 0 (spread over the calls)
  std::string idle_pct;
  std::string per_1k_tokens_usd;  // the pool's cost per 1k of its tokens
  // The same tokens priced at compare_with's managed-API price (the build-vs-buy line).
  std::string compare_with;
  Amount managed_cost;
  std::string managed_per_1k_tokens_usd = "n/a";
  std::string error;  // the pool could not be allocated
};

// A pool's cost shared out, grouped by one label (team, model, workload_type).
struct GpuPoolGroup {
  std::string pool;
  std::string value;  // the label's value ("" = not set)
  int64_t calls = 0;  // calls with a share in the period
  Amount cost;
  std::string per_call_usd;
};

// A pool's cost for one attribution label set and model: the FOCUS rows.
struct GpuPoolShare {
  std::string pool;
  LabelValues labels;  // the five attribution labels and the model; the rest empty
  int64_t calls = 0;
  Amount cost;
  friend bool operator==(const GpuPoolShare&, const GpuPoolShare&) = default;
};

struct GpuPoolReport {
  std::vector<GpuPoolSummary> pools;  // config order
  std::vector<GpuPoolGroup> by_team, by_model, by_workload_type;
  std::vector<GpuPoolShare> shares;
  std::string idle_pct = "n/a";    // all pools' idle cost / their cost x 100
  std::vector<std::string> notes;  // calls on pools the config does not know, errors

  // The groupings with their label's name, in the order the reports show them.
  std::array<std::pair<const char*, const std::vector<GpuPoolGroup>*>, 3> groupings() const {
    return {{{"team", &by_team}, {"model", &by_model}, {"workload_type", &by_workload_type}}};
  }
};

// Allocates each configured pool over the period (allocateGpuPool) and sums the shares by
// label. `prices` (the gateway config's catalog) prices compare_with; null: not compared.
GpuPoolReport computeGpuPools(const Period& period, const std::vector<PoolCall>& calls,
                              const std::vector<config::GpuPoolConfig>& pools,
                              const meter::PriceBook* prices);

}  // namespace tollgate::ledger
