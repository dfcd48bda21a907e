// The GPU-pool sweep (issue 20): hand cases and exactness properties.
#include "ledger/gpu_pool_allocation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace tollgate::ledger {
namespace {

constexpr int64_t kHourUs = 3'600'000'000;
constexpr int64_t kUsd = 1'000'000'000'000;

config::GpuPoolConfig h100(std::string share = "time", std::string idle = "separate") {
  config::GpuPoolConfig pool;
  pool.name = "h100-a";
  pool.gpus = 8;
  pool.gpu_hour = *meter::Money::parseUsd("24.00");
  pool.share = std::move(share);
  pool.idle = std::move(idle);
  return pool;
}

GpuPoolCall call(int64_t start_us, int64_t end_us, int64_t prefill = 0, int64_t decode = 0,
                 const std::string& id = "") {
  return {start_us, end_us, prefill, decode, gpuCallTieKey(id)};
}

int64_t sumOf(const GpuPoolAllocation& a) {
  return std::accumulate(a.call_pico.begin(), a.call_pico.end(), a.idle_line_pico);
}

TEST(GpuPoolAllocationTest, OneCallAloneForAnHourOnEightGpusAt24CostsTheWholeHour) {
  const GpuPoolCall calls[] = {call(0, kHourUs, 1000, 1000)};
  const auto a = allocateGpuPool(h100("tokens"), 0, kHourUs, calls);
  EXPECT_EQ(a.pool_pico, 192 * kUsd);
  EXPECT_EQ(a.call_pico[0], 192 * kUsd);
  EXPECT_EQ(a.idle_line_pico, 0);
  EXPECT_EQ(a.idle_us, 0);
}

TEST(GpuPoolAllocationTest, APoolIdleHalfThePeriodHasAnIdleLineOfHalfItsCost) {
  const GpuPoolCall calls[] = {call(kHourUs / 2, kHourUs * 3 / 2)};
  const auto a = allocateGpuPool(h100(), 0, 2 * kHourUs, calls);
  EXPECT_EQ(a.pool_pico, 384 * kUsd);
  EXPECT_EQ(a.idle_us, kHourUs);
  EXPECT_EQ(a.period_us, 2 * kHourUs);
  EXPECT_EQ(a.idle_line_pico, 192 * kUsd);
  EXPECT_EQ(a.call_pico[0], 192 * kUsd);
}

TEST(GpuPoolAllocationTest, ProportionalIdleSpreadsTheIdleCostOverTheCallsByShare) {
  const GpuPoolCall calls[] = {call(0, kHourUs / 2, 0, 0, "a"), call(0, kHourUs / 2, 0, 0, "b")};
  const auto a = allocateGpuPool(h100("time", "proportional"), 0, 2 * kHourUs, calls);
  EXPECT_EQ(a.idle_pico, 288 * kUsd);
  EXPECT_EQ(a.idle_line_pico, 0);
  EXPECT_EQ(a.call_pico[0], 192 * kUsd);
  EXPECT_EQ(a.call_pico[1], 192 * kUsd);
}

TEST(GpuPoolAllocationTest, TwoOverlappingCallsShareTheOverlapEquallyByTime) {
  const GpuPoolCall calls[] = {call(0, 2 * kHourUs), call(kHourUs, 3 * kHourUs)};
  const auto a = allocateGpuPool(h100("time"), 0, 3 * kHourUs, calls);
  EXPECT_EQ(a.call_pico[0], 288 * kUsd);  // 192 alone + 96 of the shared hour
  EXPECT_EQ(a.call_pico[1], 288 * kUsd);
  EXPECT_EQ(a.idle_line_pico, 0);
}

TEST(GpuPoolAllocationTest, TwoOverlappingCallsShareTheOverlapByWeightedTokenRate) {
  // A decodes 1 token/s for 2 h, B 3 tokens/s: the shared hour splits 1:3 (48 / 144).
  const GpuPoolCall calls[] = {call(0, 2 * kHourUs, 0, 7200), call(kHourUs, 3 * kHourUs, 0, 21600)};
  const auto a = allocateGpuPool(h100("tokens"), 0, 3 * kHourUs, calls);
  EXPECT_EQ(a.call_pico[0], 240 * kUsd);
  EXPECT_EQ(a.call_pico[1], 336 * kUsd);
  // Prefill tokens count with their own weight: 1 prefill = 4 decode makes A's rate 4x B's.
  auto pool = h100("tokens");
  pool.prefill_weight = 4;
  const GpuPoolCall weighted[] = {call(0, kHourUs, 3600, 0), call(0, kHourUs, 0, 3600)};
  const auto w = allocateGpuPool(pool, 0, kHourUs, weighted);
  EXPECT_EQ(w.call_pico[0], 192 * kUsd * 4 / 5);
  EXPECT_EQ(w.call_pico[1], 192 * kUsd / 5);
}

TEST(GpuPoolAllocationTest, ALeftoverPicodollarGoesToALargestRemainderSoTheSumIsExact) {
  config::GpuPoolConfig pool = h100("time");
  pool.gpus = 1;
  pool.gpu_hour = *meter::Money::parseUsd("1");
  const GpuPoolCall calls[] = {call(0, kHourUs, 0, 0, "x"), call(0, kHourUs, 0, 0, "y"),
                               call(0, kHourUs, 0, 0, "z")};
  const auto a = allocateGpuPool(pool, 0, kHourUs, calls);
  std::vector<int64_t> got = a.call_pico;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{333'333'333'333, 333'333'333'333, 333'333'333'334}));
  EXPECT_EQ(sumOf(a), kUsd);
}

TEST(GpuPoolAllocationTest, CallsAreClippedToThePeriod) {
  const GpuPoolCall calls[] = {call(-kHourUs, kHourUs / 2), call(2 * kHourUs, 3 * kHourUs)};
  const auto a = allocateGpuPool(h100(), 0, kHourUs, calls);
  EXPECT_EQ(a.call_pico[0], 96 * kUsd);
  EXPECT_EQ(a.call_pico[1], 0);
  EXPECT_EQ(a.idle_line_pico, 96 * kUsd);
}

TEST(GpuPoolAllocationTest, ACallWithoutTokensStillHoldsASlotUnderTheTokensRule) {
  const GpuPoolCall calls[] = {call(0, kHourUs, 0, 0)};
  const auto a = allocateGpuPool(h100("tokens"), 0, kHourUs, calls);
  EXPECT_EQ(a.call_pico[0], 192 * kUsd);
}

TEST(GpuPoolAllocationTest, APoolCostingMoreThanInt64PicodollarsIsAnErrorNotAWrap) {
  config::GpuPoolConfig pool = h100();
  pool.gpus = 100'000;
  pool.gpu_hour = *meter::Money::parseUsd("100000");
  const auto a = allocateGpuPool(pool, 0, kHourUs, {});
  EXPECT_FALSE(a.error.empty());
}

struct RandomCall {
  GpuPoolCall call;
  std::string id;
};

std::vector<RandomCall> randomCalls(std::mt19937_64& rng, size_t n, int64_t span_us) {
  std::vector<RandomCall> out;
  for (size_t i = 0; i < n; ++i) {
    const int64_t start = static_cast<int64_t>(rng() % static_cast<uint64_t>(span_us)) - 60'000'000;
    const int64_t length = 1 + static_cast<int64_t>(rng() % 90'000'000);
    const std::string id = "req-" + std::to_string(rng());
    out.push_back({call(start, start + length, static_cast<int64_t>(rng() % 20'000),
                        static_cast<int64_t>(rng() % 2'000), id),
                   id});
  }
  return out;
}

TEST(GpuPoolAllocationTest, RandomCallsSumExactlyToThePoolCostWhateverTheirOrder) {
  std::mt19937_64 rng(20);
  for (const char* share : {"tokens", "time"}) {
    for (const char* idle : {"separate", "proportional"}) {
      auto pool = h100(share, idle);
      pool.gpu_hour = *meter::Money::parseUsd("2.718281828459");
      pool.prefill_weight = 1;
      pool.decode_weight = 7;
      const int64_t period = 6 * kHourUs;
      auto calls = randomCalls(rng, 2000, period);
      std::vector<GpuPoolCall> input;
      for (const auto& c : calls) input.push_back(c.call);
      const auto a = allocateGpuPool(pool, 0, period, input);
      ASSERT_TRUE(a.error.empty());
      EXPECT_EQ(sumOf(a), a.pool_pico) << share << " " << idle;
      EXPECT_EQ(a.busy_us + a.idle_us, a.period_us);
      EXPECT_EQ(a.busy_pico + a.idle_pico, a.pool_pico);

      // The same calls in another order (as another replica mix would deliver them).
      std::vector<size_t> order(calls.size());
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), rng);
      std::vector<GpuPoolCall> shuffled;
      for (const size_t i : order) shuffled.push_back(calls[i].call);
      const auto b = allocateGpuPool(pool, 0, period, shuffled);
      for (size_t k = 0; k < order.size(); ++k) {
        ASSERT_EQ(b.call_pico[k], a.call_pico[order[k]]) << calls[order[k]].id;
      }
      EXPECT_EQ(b.idle_line_pico, a.idle_line_pico);
    }
  }
}

}  // namespace
}  // namespace tollgate::ledger
