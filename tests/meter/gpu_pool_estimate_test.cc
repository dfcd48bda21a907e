// The gateway's live GPU-pool estimate and the event's gpu_pool member (issue 20).
#include "meter/gpu_pool_estimate.h"

#include <gtest/gtest.h>

#include <string>

#include "meter/cost_event.h"
#include "meter/gpu_pool_concurrency.h"

namespace tollgate::meter {
namespace {

constexpr int64_t kHourNs = 3'600'000'000'000;
constexpr __int128 kPoolHourPico = __int128{192} * Money::kPicoPerUsd;  // 8 GPUs x $24

TEST(GpuPoolEstimateTest, ACallAloneForAnHourIsEstimatedAtTheWholeHour) {
  GpuPoolConcurrency pool;
  const auto mark = pool.begin(0);
  const auto occupancy = pool.end(kHourNs, mark);
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, kHourNs, occupancy).toDecimalString(), "192");
}

TEST(GpuPoolEstimateTest, ACallSharingHalfItsLifeWithAnotherIsEstimatedAtItsMeanConcurrency) {
  GpuPoolConcurrency pool;
  const auto a = pool.begin(0);
  const auto b = pool.begin(kHourNs / 2);
  const auto occupancy_a = pool.end(kHourNs, a);  // 1 call for 30 min, 2 for 30 min
  EXPECT_EQ(pool.running(), 1);
  // Mean concurrency 1.5 over one hour: 192 / 1.5.
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, kHourNs, occupancy_a).toDecimalString(), "128");
  const auto occupancy_b = pool.end(kHourNs * 3 / 2, b);  // 2 for 30 min, then alone 30 min
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, kHourNs, occupancy_b).toDecimalString(), "128");
}

TEST(GpuPoolEstimateTest, NonsenseInputsGiveZeroOrSaturateInsteadOfOverflowing) {
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, 0, 0).pico(), 0);
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, -5, 0).pico(), 0);
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, INT64_MAX, INT64_MAX).pico(), INT64_MAX);
  // An occupancy below the duration (a clock step) counts as alone.
  EXPECT_EQ(estimateGpuPoolCost(kPoolHourPico, kHourNs, 1).toDecimalString(), "192");
}

TEST(GpuPoolEstimateTest, OnlyAPoolCallsEventCarriesTheGpuPoolMemberMarkedAsAnEstimate) {
  CostEvent event;
  event.id = "tg-1";
  std::string plain;
  appendCloudEventJson(event, plain);
  EXPECT_EQ(plain.find("gpu_pool"), std::string::npos);
  EXPECT_EQ(plain.substr(plain.size() - 3), "}}}");

  event.gpu_pool = "h100-a";
  event.gpu_cost_estimate = *Money::parseUsd("0.053333333333");
  std::string pooled;
  appendCloudEventJson(event, pooled);
  const std::string member =
      R"(,"overhead_us":0},"gpu_pool":{"name":"h100-a","estimated_cost":"0.053333333333",)"
      R"("estimate":true}}})";
  ASSERT_GE(pooled.size(), member.size());
  EXPECT_EQ(pooled.substr(pooled.size() - member.size()), member);
}

}  // namespace
}  // namespace tollgate::meter
