// What a call does after a failed attempt: another endpoint, a fallback, or nothing more.
#include "gateway/upstream/failover_planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using ::testing::ElementsAre;
using testing::kT0;
using testing::poolOf;
using Kind = FailoverPlanner::Kind;
using GiveUp = FailoverPlanner::GiveUp;

config::UpstreamFallback to(const std::string& name, uint8_t on = config::kAllUpstreamFailures,
                            const std::string& model = "") {
  return {name, model, on};
}

// a [b (429, model claude-x), c (5xx)]; b [d]; c [b].
std::vector<config::UpstreamConfig> upstreams() {
  std::vector<config::UpstreamConfig> u = {poolOf("a", {1, 1}), poolOf("b", {1}), poolOf("c", {1}),
                                           poolOf("d", {1})};
  u[0].fallbacks = {to("b", config::kFail429, "claude-x"), to("c", config::kFail5xx)};
  u[1].fallbacks = {to("d")};
  u[2].fallbacks = {to("b")};
  return u;
}

config::RetryBudgetConfig generous() { return {1'000'000, 1'000, std::chrono::seconds(10)}; }

// One call on upstream a of `u`, with its chain and budget.
struct Call {
  explicit Call(std::vector<config::UpstreamConfig> config,
                config::RetryBudgetConfig budget_config = generous())
      : u(std::move(config)), chain(fallbackChain(u, 0)), budget(budget_config) {}

  std::vector<config::UpstreamConfig> u;
  std::vector<FallbackStep> chain;
  RetryBudget budget;
  FailoverPlanner planner{u, 0, chain, budget};
};

TEST(FallbackChain, IsDepthFirstInConfigOrderEachUpstreamOnce) {
  const auto u = upstreams();
  const auto chain = fallbackChain(u, 0);
  std::vector<size_t> order;
  for (const auto& step : chain) order.push_back(step.upstream);
  EXPECT_THAT(order, ElementsAre(1u, 3u, 2u));  // b, d, c (c's b already in)
  EXPECT_EQ(chain[0].model, "claude-x");
  EXPECT_EQ(chain[1].model, "claude-x");  // d inherits the model b was asked for
  EXPECT_EQ(chain[2].model, "");
  EXPECT_EQ(chain[0].subtree_end, 2u);
  EXPECT_EQ(chain[1].subtree_end, 2u);
  EXPECT_EQ(chain[2].subtree_end, 3u);
}

TEST(FailoverPlanner, ASucceededAttemptEndsTheCall) {
  Call call(upstreams());
  FailoverPlanner& planner = call.planner;
  EXPECT_EQ(planner.next(AttemptResult::kSuccess, false, true, kT0).reason, GiveUp::kSucceeded);
}

TEST(FailoverPlanner, NothingIsRetriedOnceBytesWereRelayed) {
  Call call(upstreams());
  FailoverPlanner& planner = call.planner;
  for (auto result : {AttemptResult::kConnectError, AttemptResult::k5xx, AttemptResult::k429,
                      AttemptResult::kTtftTimeout}) {
    const auto d = planner.next(result, true, true, kT0);
    EXPECT_EQ(d.kind, Kind::kGiveUp);
    EXPECT_EQ(d.reason, GiveUp::kRelayed);
  }
  EXPECT_EQ(planner.attempts(), 1u);
}

TEST(FailoverPlanner, AnotherEndpointFirstThenTheFallbackThatListsTheFailure) {
  Call call(upstreams());
  FailoverPlanner& planner = call.planner;
  EXPECT_EQ(planner.next(AttemptResult::k429, false, true, kT0).kind, Kind::kNextEndpoint);
  const auto d = planner.next(AttemptResult::k429, false, false, kT0);
  ASSERT_EQ(d.kind, Kind::kFallback);
  EXPECT_EQ(d.fallback->upstream, 1u);
  EXPECT_EQ(d.fallback->model, "claude-x");
  EXPECT_EQ(planner.currentUpstream(), 1u);
  EXPECT_EQ(planner.attempts(), 3u);
}

TEST(FailoverPlanner, AFallbackThatDoesNotListTheFailureIsSkippedWithItsOwnFallbacks) {
  auto u = upstreams();
  u[0].max_attempts = 10;
  Call call(u);
  FailoverPlanner& planner = call.planner;
  // 5xx: b lists only 429, so b and d (reached through b) are skipped: c.
  const auto d = planner.next(AttemptResult::k5xx, false, false, kT0);
  ASSERT_EQ(d.kind, Kind::kFallback);
  EXPECT_EQ(d.fallback->upstream, 2u);
  // c has nothing after it.
  EXPECT_EQ(planner.next(AttemptResult::k5xx, false, false, kT0).reason, GiveUp::kNotRetryable);
}

TEST(FailoverPlanner, AFallbacksOwnFallbacksComeBeforeItsSiblings) {
  auto u = upstreams();
  u[0].max_attempts = 10;
  Call call(u);
  FailoverPlanner& planner = call.planner;
  ASSERT_EQ(planner.next(AttemptResult::k429, false, false, kT0).fallback->upstream, 1u);
  EXPECT_EQ(planner.next(AttemptResult::kConnectError, false, false, kT0).fallback->upstream, 3u);
  EXPECT_EQ(planner.next(AttemptResult::k5xx, false, false, kT0).fallback->upstream, 2u);
}

TEST(FailoverPlanner, RetryOnDecidesWhetherAnotherEndpointIsTried) {
  auto u = upstreams();
  u[0].retry_on = config::kFailConnectError;
  Call call(u);
  FailoverPlanner& planner = call.planner;
  EXPECT_EQ(planner.next(AttemptResult::kConnectError, false, true, kT0).kind, Kind::kNextEndpoint);
  // A 429 is not in retry_on: straight to the fallback listing it, endpoints left or not.
  EXPECT_EQ(planner.next(AttemptResult::k429, false, true, kT0).kind, Kind::kFallback);
}

TEST(FailoverPlanner, MaxAttemptsCountsEndpointsAndFallbacksTogether) {
  auto u = upstreams();
  u[0].max_attempts = 2;
  Call call(u);
  FailoverPlanner& planner = call.planner;
  EXPECT_EQ(planner.next(AttemptResult::k429, false, true, kT0).kind, Kind::kNextEndpoint);
  EXPECT_EQ(planner.next(AttemptResult::k429, false, false, kT0).reason, GiveUp::kMaxAttempts);
  EXPECT_EQ(planner.attempts(), 2u);
}

TEST(FailoverPlanner, ASpentBudgetStopsRetriesAndTakesNothing) {
  Call call(upstreams(), {0, 0, std::chrono::seconds(10)});
  FailoverPlanner& planner = call.planner;
  EXPECT_EQ(planner.next(AttemptResult::kConnectError, false, true, kT0).reason, GiveUp::kBudget);
  EXPECT_EQ(planner.attempts(), 1u);
  EXPECT_EQ(planner.currentUpstream(), 0u);
}

}  // namespace
}  // namespace tollgate::gateway
