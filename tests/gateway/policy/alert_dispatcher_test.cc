// Budget alerts: payloads, delivery with retries, never blocking the caller.
#include "gateway/policy/alert_dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/gateway/policy/spend_test_support.h"

namespace tollgate::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::WebhookRecorder;

BudgetAlert sampleAlert(uint32_t percent = 80) {
  BudgetAlert alert;
  alert.budget = "fraud-monthly";
  alert.scope.team = "fraud-platform";
  alert.period_kind = "month";
  alert.period = {testing::utcMs(2026, 12, 1) / 1000, testing::utcMs(2027, 1, 1) / 1000, "2026-12"};
  alert.threshold_percent = percent;
  alert.spend = meter::Money::fromPico(4'012'500'000'000'000);
  alert.limit = meter::Money::fromPico(5'000'000'000'000'000);
  alert.forecast = meter::Money::fromPico(5'230'000'000'000'000);
  alert.time_ms = testing::utcMs(2026, 12, 25, 6) + 5;
  return alert;
}

TEST(BudgetAlert, SlackTextNamesBudgetScopeThresholdSpendLimitAndForecast) {
  EXPECT_EQ(sampleAlert().toSlackJson(),
            "{\"text\":\"Budget fraud-monthly (team=fraud-platform) reached 80% of $5000 for "
            "2026-12: spend $4012.5, forecast $5230 by the end of the month.\"}");
}

TEST(BudgetAlert, CloudEventHasAStableIdAndTheThresholdType) {
  EXPECT_EQ(sampleAlert().toCloudEvent("tollgate://gw-1"),
            "{\"specversion\":\"1.0\",\"type\":\"dev.tollgate.budget.threshold.v1\","
            "\"source\":\"tollgate://gw-1\",\"id\":\"fraud-monthly/2026-12/80\","
            "\"time\":\"2026-12-25T06:00:00.005Z\",\"datacontenttype\":\"application/json\","
            "\"data\":{\"budget\":\"fraud-monthly\",\"scope\":{\"team\":\"fraud-platform\"},"
            "\"period\":{\"kind\":\"month\",\"label\":\"2026-12\","
            "\"start\":\"2026-12-01T00:00:00.000Z\",\"end\":\"2027-01-01T00:00:00.000Z\"},"
            "\"threshold_percent\":80,\"spend_usd\":\"4012.5\",\"limit_usd\":\"5000\","
            "\"forecast_usd\":\"5230\"}}");
}

AlertDispatcher::Options options(std::string format = "slack", uint32_t attempts = 5) {
  AlertDispatcher::Options o;
  o.webhook.url = "http://127.0.0.1:1/hook";
  o.webhook.format = std::move(format);
  o.webhook.max_attempts = attempts;
  o.backoff = std::chrono::milliseconds(1);
  return o;
}

TEST(AlertDispatcher, RetriesUntilTheWebhookTakesItAndLosesNone) {
  WebhookRecorder hook(2);
  AlertDispatcher dispatcher(options(), hook.post());
  dispatcher.send(sampleAlert(50));
  dispatcher.send(sampleAlert(80));
  ASSERT_TRUE(hook.waitFor(2, std::chrono::seconds(10)));
  EXPECT_EQ(hook.attempts(), 4);
  EXPECT_THAT(hook.bodies(), ElementsAre(HasSubstr("reached 50%"), HasSubstr("reached 80%")));
  const auto stats = dispatcher.stats();
  EXPECT_EQ(stats.sent, 2u);
  EXPECT_EQ(stats.failed_attempts, 2u);
  EXPECT_EQ(stats.given_up, 0u);
}

TEST(AlertDispatcher, GivesUpAfterMaxAttemptsAndCountsIt) {
  WebhookRecorder hook(1000);
  AlertDispatcher dispatcher(options("slack", 3), hook.post());
  dispatcher.send(sampleAlert());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (dispatcher.stats().given_up == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(dispatcher.stats().given_up, 1u);
  EXPECT_EQ(dispatcher.stats().failed_attempts, 3u);
  EXPECT_EQ(hook.attempts(), 3);
}

TEST(AlertDispatcher, CloudEventsGoAsStructuredCloudEvents) {
  WebhookRecorder hook;
  AlertDispatcher::Options o = options("cloudevents");
  o.source = "tollgate://gw-2";
  AlertDispatcher dispatcher(o, hook.post());
  dispatcher.send(sampleAlert(100));
  ASSERT_TRUE(hook.waitFor(1, std::chrono::seconds(10)));
  EXPECT_THAT(hook.contentTypes(), ElementsAre("application/cloudevents+json"));
  EXPECT_THAT(hook.bodies()[0], HasSubstr("\"id\":\"fraud-monthly/2026-12/100\""));
  EXPECT_THAT(hook.bodies()[0], HasSubstr("\"source\":\"tollgate://gw-2\""));
}

TEST(AlertDispatcher, AFullQueueDropsAndCountsInsteadOfBlocking) {
  std::mutex gate;
  gate.lock();  // the webhook hangs until the test lets it go
  AlertDispatcher::Options o = options();
  o.max_queue = 2;
  std::atomic<int> posted{0};
  AlertDispatcher dispatcher(o, [&](const std::string&, const std::string&, const std::string&,
                                    std::chrono::milliseconds, std::string&) {
    std::lock_guard hold(gate);
    ++posted;
    return true;
  });
  for (int i = 0; i < 10; ++i) dispatcher.send(sampleAlert(static_cast<uint32_t>(i + 1)));
  // One is being posted (or about to be), two wait: at least seven were dropped.
  EXPECT_GE(dispatcher.stats().dropped, 7u);
  gate.unlock();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (dispatcher.stats().sent + dispatcher.stats().dropped < 10 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(dispatcher.stats().sent + dispatcher.stats().dropped, 10u);
}

}  // namespace
}  // namespace tollgate::gateway
