#include "gateway/upstream/endpoint_metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "gateway/upstream/upstream_pools.h"
#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

using testing::kT0;
using testing::loadConfig;
using testing::milliseconds;
using testing::seconds;

const std::string kConfig = R"(
upstreams:
  - name: pool
    dialect: openai
    models: ["*"]
    outlier_detection: {consecutive_connect_failures: 1, base_ejection_ms: 10000}
    health: {path: /health, unhealthy_after: 1, healthy_after: 1}
    endpoints:
      - base_url: "http://127.0.0.1:9001"
      - base_url: "http://127.0.0.1:9002"
      - base_url: "http://127.0.0.1:9003"
)";

class EndpointMetricsTest : public ::testing::Test {
 protected:
  const config::Config config = loadConfig(kConfig);
  EndpointMetrics metrics{2};
  UpstreamPools worker0{config, kT0, 1, nullptr, &metrics, 0};
  UpstreamPools worker1{config, kT0, 2, nullptr, &metrics, 1};

  EndpointMetrics::Row row(size_t endpoint, EndpointMetrics::Clock::time_point now = kT0) {
    const auto r = metrics.read("pool", config.upstreams[0].endpoints[endpoint].endpoint_id, now);
    EXPECT_TRUE(r.has_value());
    return r.value_or(EndpointMetrics::Row{});
  }
};

TEST_F(EndpointMetricsTest, OutstandingCallsAreSummedOverWorkers) {
  worker0.pool(0).endpoints.onStart(1);
  worker0.pool(0).endpoints.onStart(1);
  worker1.pool(0).endpoints.onStart(1);
  EXPECT_EQ(row(1).outstanding, 3);
  worker0.pool(0).endpoints.onFinish(1, AttemptResult::kSuccess, milliseconds(20), kT0);
  worker1.pool(0).endpoints.onCancel(1);
  EXPECT_EQ(row(1).outstanding, 1);
  EXPECT_EQ(row(0).outstanding, 0);
}

TEST_F(EndpointMetricsTest, LatencyIsTheHighestWorkerEstimateDecayedToTheScrape) {
  worker0.pool(0).endpoints.onStart(0);
  worker0.pool(0).endpoints.onFinish(0, AttemptResult::kSuccess, milliseconds(300), kT0);
  worker1.pool(0).endpoints.onStart(0);
  worker1.pool(0).endpoints.onFinish(0, AttemptResult::kSuccess, milliseconds(20), kT0);
  EXPECT_DOUBLE_EQ(row(0).latency_seconds, 0.3);
  // Ten seconds (the decay constant) later the estimate has fallen by e, as the balancer sees.
  EXPECT_NEAR(row(0, kT0 + seconds(10)).latency_seconds, 0.3 / 2.718281828, 1e-6);
  // An endpoint without answers shows the initial estimate.
  EXPECT_DOUBLE_EQ(row(2).latency_seconds, 0.1);
}

TEST_F(EndpointMetricsTest, EachWorkersViewOfHealthIsCountedByState) {
  auto& set0 = worker0.pool(0).endpoints;
  set0.onStart(2);
  EXPECT_TRUE(set0.onFinish(2, AttemptResult::kConnectError, std::nullopt, kT0));
  auto r = row(2);
  EXPECT_EQ(r.ejected, 1u);
  EXPECT_EQ(r.healthy, 1u);
  EXPECT_EQ(r.ejections, 1u);
  EXPECT_TRUE(worker1.pool(0).endpoints.onHealthCheck(2, false));
  r = row(2);
  EXPECT_EQ(r.unhealthy, 1u);
  EXPECT_EQ(r.ejected, 1u);
  EXPECT_EQ(r.healthy, 0u);
  // The ejection ends with its time; a passed check brings the other worker's view back.
  EXPECT_TRUE(worker1.pool(0).endpoints.onHealthCheck(2, true));
  r = row(2, kT0 + seconds(11));
  EXPECT_EQ(r.healthy, 2u);
  EXPECT_EQ(r.ejections, 1u);
}

TEST_F(EndpointMetricsTest, RetriesAndFallbacksAreCountedOnTheEndpointTheAttemptLeft) {
  worker0.pool(0).endpoints.onMovedOn(0, false);
  worker1.pool(0).endpoints.onMovedOn(0, false);
  worker1.pool(0).endpoints.onMovedOn(0, true);
  EXPECT_EQ(row(0).retried, 2u);
  EXPECT_EQ(row(0).fallbacks, 1u);
  EXPECT_EQ(row(1).retried, 0u);
}

TEST_F(EndpointMetricsTest, AReloadKeepsCountersAndCallsInFlightOnTheOldPools) {
  worker0.pool(0).endpoints.onStart(0);
  worker0.pool(0).endpoints.onMovedOn(0, false);
  UpstreamPools reloaded(config, kT0 + seconds(1), 3, &worker0, &metrics, 0);
  EXPECT_EQ(row(0).outstanding, 1);
  // The call started before the reload ends on the old pools and still counts down.
  worker0.pool(0).endpoints.onFinish(0, AttemptResult::kSuccess, milliseconds(20),
                                     kT0 + seconds(2));
  EXPECT_EQ(row(0).outstanding, 0);
  EXPECT_EQ(row(0).retried, 1u);
}

TEST(EndpointMetrics, AnEndpointNoWorkerCarriedIsNotRead) {
  EndpointMetrics metrics(2);
  EXPECT_FALSE(metrics.read("pool", "nowhere", kT0).has_value());
  metrics.shard(1, "pool", "id");
  EXPECT_FALSE(metrics.read("pool", "id", kT0).has_value());
}

}  // namespace
}  // namespace tollgate::gateway
