#include "gateway/core/worker_metrics.h"

namespace tollgate::gateway {

void WorkerMetrics::recordEvent(const meter::CostEvent& e) {
  add(calls_by_outcome[static_cast<size_t>(e.outcome)]);
  if (!e.priced && e.outcome != meter::Outcome::kRejected) add(unpriced_calls);
  if (e.usage_source == meter::UsageSource::kEstimated) add(estimated_usage_calls);
  if (e.usage_flags != 0) add(usage_repaired_calls);
  if (!e.attribution.allocated && e.outcome != meter::Outcome::kRejected) add(unallocated_calls);
}

}  // namespace tollgate::gateway
