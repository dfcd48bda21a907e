#include "gateway/upstream/peak_ewma.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using testing::kT0;
using testing::milliseconds;
using testing::seconds;

constexpr double kMs = 1e6;

TEST(PeakEwma, StartsAtTheInitialEstimate) {
  const PeakEwma ewma(milliseconds(100), seconds(10), kT0);
  EXPECT_DOUBLE_EQ(ewma.estimate(kT0), 100 * kMs);
}

TEST(PeakEwma, JumpsToASlowerSampleAtOnce) {
  PeakEwma ewma(milliseconds(100), seconds(10), kT0);
  ewma.observe(milliseconds(900), kT0 + milliseconds(1));
  EXPECT_DOUBLE_EQ(ewma.estimate(kT0 + milliseconds(1)), 900 * kMs);
}

TEST(PeakEwma, TheFirstSampleReplacesTheInitialEstimate) {
  PeakEwma ewma(milliseconds(100), seconds(10), kT0);
  ewma.observe(milliseconds(20), kT0 + milliseconds(1));
  EXPECT_DOUBLE_EQ(ewma.estimate(kT0 + milliseconds(1)), 20 * kMs);
}

TEST(PeakEwma, MovesTowardsAFasterSampleByTheElapsedTimesWeight) {
  PeakEwma ewma(milliseconds(100), seconds(10), kT0);
  ewma.observe(milliseconds(1000), kT0);
  // After one time constant the old estimate keeps e^-1 of its weight.
  ewma.observe(milliseconds(0), kT0 + seconds(10));
  EXPECT_NEAR(ewma.estimate(kT0 + seconds(10)), 1000 * kMs * std::exp(-1.0), 1.0);
  // Samples at the same instant move nothing (weight 1 on the old estimate).
  PeakEwma same(milliseconds(100), seconds(10), kT0);
  same.observe(milliseconds(1000), kT0);
  same.observe(milliseconds(10), kT0);
  EXPECT_DOUBLE_EQ(same.estimate(kT0), 1000 * kMs);
}

TEST(PeakEwma, DecaysWithoutSamplesSoAnIdleSlowEndpointIsTriedAgain) {
  PeakEwma ewma(milliseconds(100), seconds(10), kT0);
  ewma.observe(milliseconds(5000), kT0);
  EXPECT_NEAR(ewma.estimate(kT0 + seconds(20)), 5000 * kMs * std::exp(-2.0), 1.0);
  EXPECT_LT(ewma.estimate(kT0 + seconds(60)), 100 * kMs);
}

TEST(PeakEwma, ATimeBeforeTheLastSampleCountsAsNoTime) {
  PeakEwma ewma(milliseconds(100), seconds(10), kT0);
  ewma.observe(milliseconds(300), kT0 + seconds(5));
  EXPECT_DOUBLE_EQ(ewma.estimate(kT0), 300 * kMs);
}

}  // namespace
}  // namespace tollgate::gateway
