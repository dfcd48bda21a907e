#include "gateway/proxy/attempt_failover.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/gateway/upstream/pool_fixture.h"

namespace tollgate::gateway {
namespace {

using testing::kT0;
using testing::loadConfig;
using Kind = FailoverPlanner::Kind;
using GiveUp = FailoverPlanner::GiveUp;

// Two endpoints with a fallback to another model on 429 and TTFT timeouts only.
const std::string kConfig = R"(
upstreams:
  - name: pool
    dialect: openai
    models: ["gpt-*"]
    endpoints:
      - base_url: "http://127.0.0.1:9001"
      - base_url: "http://127.0.0.1:9002"
    retry_on: [connect_error, 5xx]
    max_attempts: 3
    retry_budget: {ratio: 1, min_per_second: 100, window_ms: 10000}
    fallbacks:
      - {upstream: other, model: claude-sonnet-4-5, on: ["429", ttft_timeout]}
  - name: other
    dialect: openai
    base_url: "http://127.0.0.1:9003"
    models: ["claude-*"]
)";

class AttemptFailoverTest : public ::testing::Test {
 protected:
  AttemptFailoverTest()
      : config_(loadConfig(kConfig)),
        pools_(config_, kT0, 1),
        planner_(config_.upstreams, 0, pools_.pool(0).fallbacks, pools_.pool(0).budget),
        failover_(planner_, pools_) {
    pools_.pool(0).budget.onCall(kT0);
  }

  config::Config config_;
  UpstreamPools pools_;
  FailoverPlanner planner_;
  AttemptFailover failover_;
};

TEST_F(AttemptFailoverTest, A5xxGoesToTheOtherEndpointThenNoFurther) {
  failover_.begin(0);
  ASSERT_TRUE(failover_.moveOn(AttemptResult::k5xx, kT0));
  EXPECT_EQ(failover_.decision().kind, Kind::kNextEndpoint);
  EXPECT_EQ(failover_.tried(), std::vector<size_t>{0});
  failover_.enterNext();
  failover_.begin(1);
  // Both endpoints tried, and no fallback lists 5xx: the answer is the client's.
  EXPECT_FALSE(failover_.moveOn(AttemptResult::k5xx, kT0));
  EXPECT_EQ(failover_.decision().reason, GiveUp::kNotRetryable);
  EXPECT_FALSE(failover_.denied());
  EXPECT_FALSE(failover_.movingOn());
}

TEST_F(AttemptFailoverTest, A429GoesToTheFallbackWhichStartsItsEndpointsAfresh) {
  failover_.begin(1);
  ASSERT_TRUE(failover_.moveOn(AttemptResult::k429, kT0));
  ASSERT_EQ(failover_.decision().kind, Kind::kFallback);
  EXPECT_EQ(failover_.decision().fallback->model, "claude-sonnet-4-5");
  failover_.enterNext();
  EXPECT_TRUE(failover_.tried().empty());
  EXPECT_EQ(planner_.currentUpstream(), 1u);
}

TEST_F(AttemptFailoverTest, TheFallbackGivesUpWhenNothingListsTheFailure) {
  failover_.begin(0);
  ASSERT_TRUE(failover_.moveOn(AttemptResult::kTtftTimeout, kT0));  // attempt 2: the fallback
  failover_.enterNext();
  failover_.begin(0);
  // The fallback has one endpoint and no fallback of its own.
  EXPECT_FALSE(failover_.moveOn(AttemptResult::kConnectError, kT0));
  EXPECT_EQ(failover_.decision().reason, GiveUp::kNotRetryable);
}

TEST(AttemptFailover, MaxAttemptsAndAnEmptyBudgetAreDenials) {
  for (const std::string limit :
       {"    max_attempts: 1\n", "    retry_budget: {ratio: 0, min_per_second: 0}\n"}) {
    const auto config = loadConfig(
        "upstreams:\n  - name: pool\n    dialect: openai\n    models: [\"*\"]\n"
        "    endpoints:\n      - base_url: \"http://127.0.0.1:9001\"\n"
        "      - base_url: \"http://127.0.0.1:9002\"\n" +
        limit);
    UpstreamPools pools(config, kT0, 1);
    pools.pool(0).budget.onCall(kT0);
    FailoverPlanner planner(config.upstreams, 0, pools.pool(0).fallbacks, pools.pool(0).budget);
    AttemptFailover failover(planner, pools);
    failover.begin(0);
    EXPECT_FALSE(failover.moveOn(AttemptResult::k5xx, kT0)) << limit;
    EXPECT_TRUE(failover.denied()) << limit;
  }
}

TEST_F(AttemptFailoverTest, ARetryAfterOnA429CoolsTheEndpointDownWithoutAWait) {
  failover_.begin(0);
  const auto wall = std::chrono::system_clock::now();
  failover_.onAnswerHead(429, "30", kT0, wall);
  EXPECT_EQ(pools_.pool(0).endpoints.endpoint(0).cooling_until, kT0 + std::chrono::seconds(30));
  // A 200, or a 500 without the field, or an unreadable field, changes nothing.
  failover_.begin(1);
  failover_.onAnswerHead(200, "30", kT0, wall);
  failover_.onAnswerHead(500, "", kT0, wall);
  failover_.onAnswerHead(503, "soon", kT0, wall);
  EXPECT_EQ(pools_.pool(0).endpoints.endpoint(1).cooling_until, testing::Clock::time_point{});
}

TEST(ClassifyAnswer, OnlyRateLimitsAndServerErrorsAreFailures) {
  EXPECT_EQ(classifyAnswer(200), AttemptResult::kSuccess);
  EXPECT_EQ(classifyAnswer(400), AttemptResult::kSuccess);  // the request's fault
  EXPECT_EQ(classifyAnswer(404), AttemptResult::kSuccess);
  EXPECT_EQ(classifyAnswer(429), AttemptResult::k429);
  EXPECT_EQ(classifyAnswer(500), AttemptResult::k5xx);
  EXPECT_EQ(classifyAnswer(503), AttemptResult::k5xx);
  EXPECT_EQ(classifyAnswer(599), AttemptResult::k5xx);
}

}  // namespace
}  // namespace tollgate::gateway
