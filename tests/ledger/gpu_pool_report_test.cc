// GPU pools in the ledger's reports (issue 20): the reference example, the build-vs-buy line,
// and a simulated day of two gateway replicas on one pool.
#include "ledger/gpu_pool_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ledger/cost_event_parser.h"
#include "ledger/gpu_pool_allocation.h"
#include "ledger/report_json.h"
#include "tests/ledger/event_builder.h"

namespace tollgate::ledger {
namespace {

using testing::EventSpec;
using testing::kHourNs;

// 2026-11-01T00:00:00Z
constexpr int64_t kNov1Ns = testing::kNov2At10Ns - 34 * kHourNs;

config::GpuPoolConfig h100(std::string share = "tokens") {
  config::GpuPoolConfig pool;
  pool.name = "h100-a";
  pool.gpus = 8;
  pool.gpu_hour = *meter::Money::parseUsd("24.00");
  pool.share = std::move(share);
  return pool;
}

// The event the gateway writes, read back by the ledger: the real wire path.
PoolCall pooled(const EventSpec& spec) {
  CostEventParser parser;
  auto parsed = parser.parse(testing::eventJson(spec));
  EXPECT_EQ(parsed.status, ParseStatus::kRecord) << parsed.error;
  return poolCallOf(parsed.record);
}

const GpuPoolGroup* find(const std::vector<GpuPoolGroup>& groups, const std::string& value) {
  for (const auto& g : groups) {
    if (g.value == value) return &g;
  }
  return nullptr;
}

// The FinOps practice's reference example: a training run is 8 GPUs x 18 h = 144 GPU-hours at
// $24.00, $3,456.00 per run; here metered through the pool (four runs in November), with the
// pool's idle share beside it.
TEST(GpuPoolReport, TrainingRunsOnTheEightGpuNodeAreBookedAt3456PerRunWithIdleBeside) {
  std::vector<PoolCall> calls;
  for (int run = 0; run < 4; ++run) {
    EventSpec spec;
    spec.id = "train-" + std::to_string(run);
    spec.team = "ml-research";
    spec.workload_type = "training";
    spec.model = "llama-3.1-70b-ft";
    spec.priced = false;
    spec.gpu_pool = "h100-a";
    spec.start_ns = kNov1Ns + (run * 7 * 24) * kHourNs;
    spec.end_ns = spec.start_ns + 18 * kHourNs;
    calls.push_back(pooled(spec));
  }
  const auto r = computeGpuPools(*parsePeriod("2026-11"), calls, {h100()}, nullptr);
  ASSERT_EQ(r.pools.size(), 1u);
  const GpuPoolSummary& p = r.pools[0];
  EXPECT_EQ(p.cost.toFixedString(2), "138240.00");  // 720 h x 8 x $24
  EXPECT_EQ(p.busy.toFixedString(2), "13824.00");
  const GpuPoolGroup* training = find(r.by_workload_type, "training");
  ASSERT_NE(training, nullptr);
  EXPECT_EQ(training->calls, 4);
  EXPECT_EQ(training->per_call_usd, "3456.00");
  // 648 of 720 hours idle: the idle line is the rest of the node's cost.
  EXPECT_EQ(p.idle_pct, "90");
  EXPECT_EQ(r.idle_pct, "90");
  EXPECT_EQ(p.idle_line.toFixedString(2), "124416.00");
  EXPECT_EQ(training->cost + p.idle_line, p.cost);
}

TEST(GpuPoolReport, SelfHostedCostPer1kTokensIsSetBesideTheComparableManagedModelsPrice) {
  EventSpec spec;
  spec.gpu_pool = "h100-a";
  spec.input_tokens = 1'000'000;
  spec.output_tokens = 1'000'000;
  spec.start_ns = kNov1Ns;
  spec.end_ns = kNov1Ns + kHourNs;
  auto pool = h100();
  pool.compare_with = "gpt-4o-mini";
  meter::Price price;
  price.input = price.cache_read = price.cache_write = *meter::parsePerMillionPrice("0.15");
  price.output = price.reasoning = *meter::parsePerMillionPrice("0.60");
  const meter::PriceBook book("test", {{"gpt-4o-mini*", price}});
  // Two hours (a call belongs to the period its end falls in, [start, end)), half idle.
  Period day{"2026-11-01", kNov1Ns / kHourNs, kNov1Ns / kHourNs + 2};
  const auto r = computeGpuPools(day, {pooled(spec)}, {pool}, &book);
  ASSERT_EQ(r.pools.size(), 1u);
  EXPECT_EQ(r.pools[0].tokens, 2'000'000);
  EXPECT_EQ(r.pools[0].per_1k_tokens_usd, "0.192");  // $384, idle included, / 2,000 k tokens
  EXPECT_EQ(r.pools[0].managed_cost.toDecimalString(), "0.75");
  EXPECT_EQ(r.pools[0].managed_per_1k_tokens_usd, "0.000375");
  EXPECT_EQ(r.idle_pct, "50");
}

TEST(GpuPoolReport, CallsOnAPoolTheConfigDoesNotDefineAreNotedNotAllocated) {
  EventSpec spec;
  spec.gpu_pool = "a100-old";
  const auto r = computeGpuPools(*parsePeriod("2026-11"), {pooled(spec)}, {h100()}, nullptr);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("a100-old"), std::string::npos);
  EXPECT_EQ(r.pools[0].idle_pct, "100");
}

// A day of inference on one pool from two gateway replicas: thousands of overlapping calls
// with real token counts, each written by the meter's writer with its replica as the source.
std::vector<EventSpec> simulatedDay(std::mt19937_64& rng, size_t n) {
  const char* teams[] = {"fraud", "search", "support", "growth"};
  std::vector<EventSpec> out;
  for (size_t i = 0; i < n; ++i) {
    EventSpec spec;
    spec.id = "call-" + std::to_string(i);
    spec.team = teams[rng() % 4];
    spec.model = rng() % 3 == 0 ? "llama-3.1-8b" : "llama-3.1-70b";
    spec.upstream = "vllm-llama";
    spec.priced = false;
    spec.gpu_pool = "h100-a";
    spec.input_tokens = 100 + static_cast<int64_t>(rng() % 8000);
    spec.cache_read_tokens = static_cast<int64_t>(rng() % 100);
    spec.output_tokens = 10 + static_cast<int64_t>(rng() % 1500);
    // Busy from 06:00 to 22:00 with latencies of 0.2 to 40 s.
    spec.start_ns =
        kNov1Ns + 6 * kHourNs + static_cast<int64_t>(rng() % static_cast<uint64_t>(16 * kHourNs));
    spec.end_ns = spec.start_ns + 200'000'000 + static_cast<int64_t>(rng() % 40'000'000'000);
    out.push_back(spec);
  }
  return out;
}

TEST(GpuPoolReport, ASimulatedDayFromTwoReplicasSharesExactlyWhicheverReplicaServedEachCall) {
  std::mt19937_64 rng(2026);
  const auto day = simulatedDay(rng, 5000);
  const Period period{"2026-11-01", kNov1Ns / kHourNs, kNov1Ns / kHourNs + 24};
  for (const char* share : {"tokens", "time"}) {
    auto read = [&](bool swap_replicas, bool shuffle) {
      std::vector<size_t> order(day.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      if (shuffle) std::shuffle(order.begin(), order.end(), rng);
      std::vector<PoolCall> calls;
      for (const size_t i : order) {
        auto event = testing::costEvent(day[i]);
        event.source = ((i % 2 == 0) != swap_replicas) ? "tollgate://gw-1" : "tollgate://gw-2";
        std::string line;
        meter::appendCloudEventJson(event, line);
        CostEventParser parser;
        auto parsed = parser.parse(line);
        EXPECT_EQ(parsed.status, ParseStatus::kRecord);
        calls.push_back(poolCallOf(parsed.record));
      }
      return computeGpuPools(period, calls, {h100(share)}, nullptr);
    };
    const auto a = read(false, false);
    ASSERT_EQ(a.pools.size(), 1u);
    const auto& p = a.pools[0];
    EXPECT_EQ(p.cost.toFixedString(2), "4608.00");  // 24 h x 8 x $24
    EXPECT_EQ(p.calls, 5000);
    Amount teams;
    for (const auto& g : a.by_team) teams += g.cost;
    Amount shares;
    for (const auto& s : a.shares) shares += s.cost;
    EXPECT_EQ(teams + p.idle_line, p.cost) << share;
    EXPECT_EQ(shares + p.idle_line, p.cost) << share;
    EXPECT_EQ(p.busy + p.idle, p.cost);
    EXPECT_FALSE(p.idle.isZero());  // the night is idle
    const auto b = read(true, true);
    EXPECT_EQ(b.shares, a.shares) << share;
    EXPECT_EQ(b.pools[0].idle_line, p.idle_line);
  }
}

}  // namespace
}  // namespace tollgate::ledger
