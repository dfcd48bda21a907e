// Budget alerts across replicas: two gateway processes share one redis-server on loopback, and a
// local webhook receiver fails each alert's first two deliveries. Label redis (Release pass).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/support/alert_scenario.h"
#include "tests/integration/support/redis_server.h"

namespace tollgate::testing {
namespace {

class BudgetAlertsAcrossReplicas : public ::testing::TestWithParam<std::string> {};

TEST_P(BudgetAlertsAcrossReplicas, EachThresholdReachesTheWebhookOncePerPeriodAndNoneIsLost) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server not installed";
  const std::string format = GetParam();
  RedisServer redis;
  WebhookReceiver hook(2);
  TempDir dir;
  const ClockFile clock(dir, AlertScenario::december16());
  StackOptions options;
  options.workers = 1;
  options.extra_yaml = AlertScenario::yaml(hook.url(), format) +
                       "spend_state: { backend: redis, redis: { url: \"" + redis.url() + "\" } }\n";
  options.gateway_args = {"--test-clock-file", clock.path()};
  Stack a(options);
  Stack b(options);
  const std::vector<Stack*> replicas = {&a, &b};

  EXPECT_EQ(AlertScenario::crossEveryThreshold(replicas, hook, 0), 0);
  ASSERT_TRUE(hook.waitFor(3, std::chrono::seconds(20))) << hook.attempts() << " attempts";
  // The period ends: the same thresholds fire again, once each, for January.
  clock.set(AlertScenario::january16());
  EXPECT_EQ(AlertScenario::crossEveryThreshold(replicas, hook, 3), 0);
  ASSERT_TRUE(hook.waitFor(6, std::chrono::seconds(20))) << hook.attempts() << " attempts";

  EXPECT_EQ(AlertScenario::counterSum(replicas, "tollgate_budget_alerts_sent_total", 6), 6);
  AlertScenario::expectTwoMonthsOfAlerts(hook.accepted(), format);
  // Three attempts per alert (two refused), from both replicas: the crossing is found by the
  // replica whose report to Redis crossed it, and calls alternate.
  EXPECT_EQ(hook.attempts(), 18);
  EXPECT_EQ(AlertScenario::counterSum(replicas, "tollgate_budget_alert_attempts_failed_total", 12),
            12);
  EXPECT_GE(a.metric("tollgate_budget_alerts_sent_total"), 1);
  EXPECT_GE(b.metric("tollgate_budget_alerts_sent_total"), 1);
  EXPECT_EQ(a.metric("tollgate_budget_alerts_failed_total"), 0);
  EXPECT_EQ(b.metric("tollgate_budget_alerts_failed_total"), 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, BudgetAlertsAcrossReplicas,
                         ::testing::Values("slack", "cloudevents"));

}  // namespace
}  // namespace tollgate::testing
