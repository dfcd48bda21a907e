#include "gateway/core/worker_metrics.h"

#include <gtest/gtest.h>

namespace tollgate::gateway {
namespace {

// Every outcome has its own counter: an outcome added to the enum without a slot was written
// past the array (the sanitizer build caught budget_cut doing so).
TEST(WorkerMetrics, EveryOutcomeIsCountedInItsOwnSlot) {
  WorkerMetrics metrics;
  for (size_t i = 0; i < meter::kOutcomeCount; ++i) {
    meter::CostEvent event;
    event.outcome = static_cast<meter::Outcome>(i);
    for (size_t n = 0; n <= i; ++n) metrics.recordEvent(event);
  }
  for (size_t i = 0; i < meter::kOutcomeCount; ++i) {
    EXPECT_EQ(metrics.calls_by_outcome[i].load(), i + 1)
        << meter::toString(static_cast<meter::Outcome>(i));
  }
}

}  // namespace
}  // namespace tollgate::gateway
