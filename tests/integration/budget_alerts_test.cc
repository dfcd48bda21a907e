// Budget alerts end to end on one replica (spend_state.backend: local): the webhook receiver
// fails each alert's first two deliveries; the test clock crosses a month's end.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/support/alert_scenario.h"

namespace tollgate::testing {
namespace {

class BudgetAlertsOnOneReplica : public ::testing::TestWithParam<std::string> {};

TEST_P(BudgetAlertsOnOneReplica, EachThresholdReachesTheWebhookOncePerPeriodAndNoneIsLost) {
  const std::string format = GetParam();
  WebhookReceiver hook(2);
  TempDir dir;
  const ClockFile clock(dir, AlertScenario::december16());
  StackOptions options;
  options.workers = 2;
  options.extra_yaml = AlertScenario::yaml(hook.url(), format) +
                       "spend_state: { backend: local, file: \"" + dir.file("spend.tsv") + "\" }\n";
  options.gateway_args = {"--test-clock-file", clock.path()};
  Stack stack(options);

  EXPECT_EQ(AlertScenario::crossEveryThreshold({&stack}, hook, 0), 0);
  ASSERT_TRUE(hook.waitFor(3, std::chrono::seconds(20))) << hook.attempts() << " attempts";
  clock.set(AlertScenario::january16());
  EXPECT_EQ(AlertScenario::crossEveryThreshold({&stack}, hook, 3), 0);
  ASSERT_TRUE(hook.waitFor(6, std::chrono::seconds(20))) << hook.attempts() << " attempts";

  AlertScenario::expectTwoMonthsOfAlerts(hook.accepted(), format);
  EXPECT_EQ(hook.attempts(), 18);
  EXPECT_EQ(AlertScenario::counterSum({&stack}, "tollgate_budget_alerts_sent_total", 6), 6);
  EXPECT_EQ(stack.metric("tollgate_budget_alert_attempts_failed_total"), 12);
  EXPECT_EQ(stack.metric("tollgate_budget_alerts_failed_total"), 0);
}

INSTANTIATE_TEST_SUITE_P(Formats, BudgetAlertsOnOneReplica,
                         ::testing::Values("slack", "cloudevents"));

}  // namespace
}  // namespace tollgate::testing
