// Which endpoints may take a call: health, outlier ejection (growing, bounded share), Retry-After
// cool-downs, max_outstanding, and the endpoints a call already tried.
#include "gateway/upstream/endpoint_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using testing::Clock;
using testing::kT0;
using testing::milliseconds;
using testing::poolOf;
using testing::ScriptedRandom;
using testing::seconds;
using Ids = std::vector<size_t>;
using Kind = EndpointPick::Kind;

// Round robin makes the picks predictable: each test asks "which endpoints are candidates?".
struct Pool {
  explicit Pool(config::UpstreamConfig config) : upstream(std::move(config)), set(upstream, kT0) {}

  // The endpoints picked by `n` calls in a row at `now` (each started and left in flight only
  // when `hold` is set).
  Ids picks(int n, Clock::time_point now, const Ids& tried = {}) {
    Ids out;
    for (int k = 0; k < n; ++k) {
      const EndpointPick p = set.pick(*balancer, random, now, tried);
      if (p.kind != Kind::kPicked) break;
      out.push_back(p.index);
    }
    return out;
  }

  void fail(size_t i, AttemptResult result, int times, Clock::time_point now) {
    for (int k = 0; k < times; ++k) {
      set.onStart(i);
      set.onFinish(i, result, std::nullopt, now);
    }
  }

  config::UpstreamConfig upstream;
  EndpointSet set;
  std::unique_ptr<Balancer> balancer = makeBalancer("round_robin", 3);
  ScriptedRandom random;
};

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(EndpointSet, EveryEndpointTakesCallsAtFirst) {
  Pool pool(poolOf("p", {1, 1, 1}));
  EXPECT_THAT(pool.picks(3, kT0), ElementsAre(0u, 1u, 2u));
}

TEST(EndpointSet, ConsecutiveConnectFailuresEjectForBaseEjectionThenItReturns) {
  auto config = poolOf("p", {1, 1, 1});
  config.outlier_detection.consecutive_connect_failures = 3;
  config.outlier_detection.base_ejection = seconds(10);
  Pool pool(config);
  pool.fail(1, AttemptResult::kConnectError, 2, kT0);
  EXPECT_EQ(pool.set.ejectedCount(kT0), 0u);
  pool.set.onStart(1);
  EXPECT_TRUE(pool.set.onFinish(1, AttemptResult::kConnectError, std::nullopt, kT0));
  EXPECT_EQ(pool.set.endpoint(1).outlier.ejections(), 1u);
  EXPECT_THAT(pool.picks(4, kT0 + seconds(9)), ElementsAre(0u, 2u, 0u, 2u));
  EXPECT_THAT(pool.picks(3, kT0 + seconds(10)), UnorderedElementsAre(0u, 1u, 2u));
}

TEST(EndpointSet, ASuccessBetweenFailuresRestartsTheCount) {
  auto config = poolOf("p", {1, 1});
  config.outlier_detection.consecutive_5xx = 2;
  Pool pool(config);
  pool.fail(0, AttemptResult::k5xx, 1, kT0);
  pool.fail(0, AttemptResult::kSuccess, 1, kT0);
  pool.fail(0, AttemptResult::k5xx, 1, kT0);
  EXPECT_EQ(pool.set.ejectedCount(kT0), 0u);
  pool.fail(0, AttemptResult::k5xx, 1, kT0);
  EXPECT_EQ(pool.set.ejectedCount(kT0), 1u);
}

TEST(EndpointSet, QuotaAnswersAndSlowFirstTokensNeverEject) {
  auto config = poolOf("p", {1, 1});
  config.outlier_detection.consecutive_5xx = 1;
  config.outlier_detection.consecutive_connect_failures = 1;
  Pool pool(config);
  pool.fail(0, AttemptResult::k429, 10, kT0);
  pool.fail(0, AttemptResult::kTtftTimeout, 10, kT0);
  EXPECT_EQ(pool.set.ejectedCount(kT0), 0u);
}

TEST(EndpointSet, EachRepeatedEjectionLastsLongerUpToTheMaximum) {
  auto config = poolOf("p", {1, 1, 1, 1});
  config.outlier_detection.consecutive_connect_failures = 1;
  config.outlier_detection.base_ejection = seconds(10);
  config.outlier_detection.max_ejection = seconds(25);
  Pool pool(config);
  auto now = kT0;
  std::vector<Clock::duration> lengths;
  for (int k = 0; k < 3; ++k) {
    pool.fail(0, AttemptResult::kConnectError, 1, now);
    lengths.push_back(pool.set.endpoint(0).outlier.ejectedUntil() - now);
    now = pool.set.endpoint(0).outlier.ejectedUntil();
  }
  EXPECT_THAT(lengths, ElementsAre(seconds(10), seconds(20), seconds(25)));
}

TEST(EndpointSet, TheMultiplierResetsAfterServingMaxEjectionWithoutEjection) {
  auto config = poolOf("p", {1, 1});
  config.outlier_detection.consecutive_connect_failures = 1;
  config.outlier_detection.base_ejection = seconds(10);
  config.outlier_detection.max_ejection = seconds(60);
  Pool pool(config);
  pool.fail(0, AttemptResult::kConnectError, 1, kT0);
  const auto back = pool.set.endpoint(0).outlier.ejectedUntil();
  pool.fail(0, AttemptResult::kConnectError, 1, back + seconds(60));
  EXPECT_EQ(pool.set.endpoint(0).outlier.ejectedUntil() - (back + seconds(60)), seconds(10));
}

TEST(EndpointSet, NeverEjectsMoreThanTheMaxShare) {
  auto config = poolOf("p", {1, 1, 1, 1});
  config.outlier_detection.consecutive_connect_failures = 1;
  config.outlier_detection.max_ejected_percent = 50;
  Pool pool(config);
  for (size_t i = 0; i < 4; ++i) pool.fail(i, AttemptResult::kConnectError, 1, kT0);
  EXPECT_EQ(pool.set.ejectedCount(kT0), 2u);
  EXPECT_THAT(pool.picks(2, kT0), ElementsAre(2u, 3u));
}

TEST(EndpointSet, ASingleEndpointIsNeverEjected) {
  auto config = poolOf("p", {1});
  config.outlier_detection.consecutive_connect_failures = 1;
  config.outlier_detection.max_ejected_percent = 100;
  Pool pool(config);
  pool.fail(0, AttemptResult::kConnectError, 5, kT0);
  EXPECT_EQ(pool.set.ejectedCount(kT0), 0u);
}

TEST(EndpointSet, UnhealthyEndpointsGetNoCallsUntilHealthyAgain) {
  auto config = poolOf("p", {1, 1});
  config.health.unhealthy_after = 2;
  config.health.healthy_after = 2;
  Pool pool(config);
  EXPECT_FALSE(pool.set.onHealthCheck(0, false));
  EXPECT_TRUE(pool.set.onHealthCheck(0, false));
  EXPECT_THAT(pool.picks(2, kT0), ElementsAre(1u, 1u));
  EXPECT_FALSE(pool.set.onHealthCheck(0, true));
  EXPECT_FALSE(pool.set.onHealthCheck(0, false));  // a failure restarts the count of passes
  EXPECT_FALSE(pool.set.onHealthCheck(0, true));
  EXPECT_TRUE(pool.set.onHealthCheck(0, true));
  EXPECT_THAT(pool.picks(2, kT0), UnorderedElementsAre(0u, 1u));
}

TEST(EndpointSet, WhenNoneIsHealthyAllAreUsed) {
  auto config = poolOf("p", {1, 1});
  config.health.unhealthy_after = 1;
  Pool pool(config);
  pool.set.onHealthCheck(0, false);
  pool.set.onHealthCheck(1, false);
  EXPECT_THAT(pool.picks(2, kT0), UnorderedElementsAre(0u, 1u));
}

TEST(EndpointSet, RetryAfterKeepsCallsAwayUntilItEnds) {
  Pool pool(poolOf("p", {1, 1}));
  pool.set.coolDown(0, kT0 + seconds(30));
  EXPECT_THAT(pool.picks(2, kT0 + seconds(29)), ElementsAre(1u, 1u));
  EXPECT_THAT(pool.picks(2, kT0 + seconds(30)), UnorderedElementsAre(0u, 1u));
}

TEST(EndpointSet, AllCoolingDownAnswersWithTheEarliestEnd) {
  Pool pool(poolOf("p", {1, 1}));
  pool.set.coolDown(0, kT0 + milliseconds(30'500));
  pool.set.coolDown(1, kT0 + seconds(60));
  const EndpointPick p = pool.set.pick(*pool.balancer, pool.random, kT0);
  EXPECT_EQ(p.kind, Kind::kCoolingDown);
  EXPECT_EQ(p.retry_after, seconds(31));
}

TEST(EndpointSet, EndpointsTheCallTriedAreSkippedThenExhausted) {
  Pool pool(poolOf("p", {1, 1, 1}));
  EXPECT_THAT(pool.picks(2, kT0, {0, 2}), ElementsAre(1u, 1u));
  EXPECT_EQ(pool.set.pick(*pool.balancer, pool.random, kT0, Ids{0, 1, 2}).kind, Kind::kExhausted);
}

TEST(EndpointSet, AtMaxOutstandingEverywhereTheAnswerIsOverloaded) {
  auto config = poolOf("p", {1, 1});
  config.max_outstanding = 2;
  Pool pool(config);
  for (int k = 0; k < 4; ++k) {
    const EndpointPick p = pool.set.pick(*pool.balancer, pool.random, kT0);
    ASSERT_EQ(p.kind, Kind::kPicked);
    pool.set.onStart(p.index);
  }
  const EndpointPick full = pool.set.pick(*pool.balancer, pool.random, kT0);
  EXPECT_EQ(full.kind, Kind::kOverloaded);
  EXPECT_EQ(full.retry_after, seconds(1));
  pool.set.onFinish(1, AttemptResult::kSuccess, milliseconds(5), kT0);
  EXPECT_THAT(pool.picks(1, kT0), ElementsAre(1u));
}

TEST(EndpointSet, AnAnswersFirstByteTimeFeedsTheLatencyEstimate) {
  Pool pool(poolOf("p", {1}));
  pool.set.onStart(0);
  pool.set.onFinish(0, AttemptResult::kSuccess, milliseconds(700), kT0);
  EXPECT_DOUBLE_EQ(pool.set.endpoint(0).latency.estimate(kT0), 700e6);
  EXPECT_EQ(pool.set.endpoint(0).outstanding, 0u);
}

}  // namespace
}  // namespace tollgate::gateway
