#include "gateway/upstream/retry_budget.h"

#include <gtest/gtest.h>

#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using testing::Clock;
using testing::kT0;
using testing::milliseconds;
using testing::seconds;

config::RetryBudgetConfig budgetOf(uint32_t ratio_ppm, uint32_t min_per_second,
                                   milliseconds window = seconds(10)) {
  return {ratio_ppm, min_per_second, window};
}

int retriesAllowed(RetryBudget& budget, int asked, Clock::time_point now) {
  int allowed = 0;
  for (int k = 0; k < asked; ++k) allowed += budget.tryRetry(now) ? 1 : 0;
  return allowed;
}

TEST(RetryBudget, AllowsTheRatioOfTheWindowsCalls) {
  RetryBudget budget(budgetOf(200'000, 0));
  for (int k = 0; k < 100; ++k) budget.onCall(kT0);
  EXPECT_EQ(retriesAllowed(budget, 100, kT0), 20);
}

TEST(RetryBudget, TheReserveAllowsRetriesWithFewCalls) {
  RetryBudget budget(budgetOf(200'000, 1, seconds(10)));
  // No calls at all: min_per_second x 10 s.
  EXPECT_EQ(retriesAllowed(budget, 50, kT0), 10);
}

TEST(RetryBudget, UnderATotalOutageAttemptsPerCallStayNearOnePlusTheRatio) {
  RetryBudget budget(budgetOf(200'000, 0));
  int attempts = 0;
  const int calls = 1'000;
  for (int k = 0; k < calls; ++k) {
    const auto now = kT0 + milliseconds(k);
    budget.onCall(now);
    ++attempts;
    // Each call would retry twice more (max_attempts 3) if the budget let it.
    for (int r = 0; r < 2 && budget.tryRetry(now); ++r) ++attempts;
  }
  EXPECT_LE(attempts, calls + calls / 5);
  EXPECT_GE(attempts, calls + calls / 5 - 2);
}

TEST(RetryBudget, CallsAndRetriesOlderThanTheWindowNoLongerCount) {
  RetryBudget budget(budgetOf(500'000, 0, seconds(10)));
  for (int k = 0; k < 10; ++k) budget.onCall(kT0);
  EXPECT_EQ(retriesAllowed(budget, 10, kT0), 5);
  EXPECT_EQ(retriesAllowed(budget, 10, kT0 + seconds(9)), 0);
  // The slot of kT0 has left the window: no calls to pay for retries, none spent either.
  EXPECT_EQ(retriesAllowed(budget, 10, kT0 + seconds(10)), 0);
  for (int k = 0; k < 4; ++k) budget.onCall(kT0 + seconds(10));
  EXPECT_EQ(retriesAllowed(budget, 10, kT0 + seconds(10)), 2);
}

TEST(RetryBudget, ARatioOfZeroAndNoReserveAllowsNone) {
  RetryBudget budget(budgetOf(0, 0));
  for (int k = 0; k < 100; ++k) budget.onCall(kT0);
  EXPECT_FALSE(budget.tryRetry(kT0));
}

}  // namespace
}  // namespace tollgate::gateway
