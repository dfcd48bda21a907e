// Budget alerts end to end on one replica (spend_state.backend: local): the webhook receiver
// fails each alert's first two deliveries; the test clock crosses a month's end.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/support/alert_scenario.h"
#include "tests/integration/support/kafka_cluster.h"

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

// A gateway with the Kafka sink on `cluster`, the scenario's budget, the webhook at `hook` in
// slack format, and the test clock.
StackOptions kafkaOptions(const KafkaMockCluster& cluster, const WebhookReceiver& hook,
                          const TempDir& dir, const ClockFile& clock,
                          const std::string& kafka_properties = "") {
  StackOptions options;
  options.events_sink = "kafka";
  options.extra_events_yaml = "  kafka: { brokers: \"" + cluster.bootstrap() +
                              "\", topic: " + cluster.topic() + kafka_properties +
                              " }\n  spool: { dir: \"" + dir.file("spool") + "\" }\n";
  options.extra_yaml = AlertScenario::yaml(hook.url(), "slack") +
                       "spend_state: { backend: local, file: \"" + dir.file("spend.tsv") + "\" }\n";
  options.gateway_args = {"--test-clock-file", clock.path()};
  return options;
}

// With the Kafka sink, every alert is also a CloudEvent on alerts.kafka_topic (default
// llm.budget-alerts.v1), with the cost events' content-type header, keyed by the budget.
TEST(BudgetAlertsToKafka, EachAlertIsOneCloudEventOnTheAlertsTopic) {
  KafkaMockCluster cluster;
  const std::string topic = "llm.budget-alerts.v1";
  ASSERT_EQ(cluster.command("topic " + topic + " 2 3").substr(0, 2), "ok");
  WebhookReceiver hook;
  TempDir dir;
  const ClockFile clock(dir, AlertScenario::december16());
  Stack stack(kafkaOptions(cluster, hook, dir, clock));

  EXPECT_EQ(AlertScenario::crossEveryThreshold({&stack}, hook, 0), 0);
  clock.set(AlertScenario::january16());
  EXPECT_EQ(AlertScenario::crossEveryThreshold({&stack}, hook, 3), 0);
  EXPECT_EQ(AlertScenario::counterSum({&stack}, "tollgate_budget_alerts_kafka_delivered_total", 6),
            6)
      << stack.gatewayProcess().stderrText();
  EXPECT_EQ(stack.metric("tollgate_budget_alerts_kafka_failed_total"), 0);

  std::vector<WebhookReceiver::Delivery> events;
  for (const KafkaRecord& r : readKafkaTopic(cluster.bootstrap(), topic)) {
    EXPECT_EQ(r.key, AlertScenario::kBudget);
    std::string content_type;
    for (const auto& [name, value] : r.headers) {
      if (name == "content-type") content_type = value;
    }
    EXPECT_EQ(content_type, "application/cloudevents+json; charset=UTF-8");
    events.push_back({"application/cloudevents+json", r.value});
  }
  AlertScenario::expectTwoMonthsOfAlerts(events, "cloudevents");
  // The webhook got them too, and the cost events still reach their own topic.
  EXPECT_TRUE(hook.waitFor(6, std::chrono::seconds(10)));
  EXPECT_EQ(AlertScenario::counterSum({&stack}, "tollgate_events_delivered_total", 14), 14);
  EXPECT_EQ(cluster.readAll().size(), 14u);
}

// Kafka down: the alerts it cannot take are counted failed once librdkafka gives up on them
// (message.timeout.ms), the webhook still gets every alert, and no call waits for either.
TEST(BudgetAlertsToKafka, KafkaDownCountsTheAlertsFailedAndTheWebhookStillGetsThem) {
  KafkaMockCluster cluster;
  WebhookReceiver hook;
  TempDir dir;
  const ClockFile clock(dir, AlertScenario::december16());
  Stack stack(
      kafkaOptions(cluster, hook, dir, clock, ", properties: { message.timeout.ms: \"1000\" }"));
  ASSERT_EQ(cluster.command("down all").substr(0, 2), "ok");

  EXPECT_EQ(AlertScenario::crossEveryThreshold({&stack}, hook, 0), 0);
  EXPECT_TRUE(hook.waitFor(3, std::chrono::seconds(10)));
  EXPECT_EQ(AlertScenario::counterSum({&stack}, "tollgate_budget_alerts_kafka_failed_total", 3), 3);
  EXPECT_EQ(stack.metric("tollgate_budget_alerts_kafka_delivered_total"), 0);
  EXPECT_EQ(stack.metric("tollgate_budget_alerts_sent_total"), 3);
}

}  // namespace
}  // namespace tollgate::testing
