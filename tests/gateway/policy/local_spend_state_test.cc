// The local state backend: exact decisions, alerts once, spend kept across restart and reload.
#include "gateway/policy/local_spend_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/gateway/policy/spend_test_support.h"
#include "tests/integration/support/process.h"

namespace tollgate::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Status = SpendAdmission::Status;
using testing::callOf;

constexpr int64_t kUsd = meter::Money::kPicoPerUsd;

std::shared_ptr<config::Config> configWith(const std::string& file, int64_t limit_usd) {
  auto config = std::make_shared<config::Config>();
  config->spend_state.file = file;
  config->budgets.push_back(testing::budgetOf("b", limit_usd * kUsd));
  return config;
}

void spend(SpendState& state, const meter::PriceEntry& price, int64_t usd) {
  const auto a = state.admit(callOf(&price, usd));
  ASSERT_EQ(a.status, Status::kAdmitted);
  state.settle(a.hold, meter::Usage{usd, 0, 0, 0, 0, 0}, meter::Money::fromPico(usd * kUsd));
}

TEST(LocalSpendState, SpendSurvivesARestartThroughItsFile) {
  tollgate::testing::TempDir dir;
  testing::TestClock clock;
  const auto price = testing::dollarPerInputToken();
  {
    LocalSpendState state(configWith(dir.file("spend.tsv"), 10), clock.clock(), nullptr);
    spend(state, price, 6);
  }
  LocalSpendState again(configWith(dir.file("spend.tsv"), 10), clock.clock(), nullptr);
  EXPECT_EQ(again.budgets()[0].settled_pico, 6 * kUsd);
  EXPECT_EQ(again.admit(callOf(&price, 5)).status, Status::kBudgetExceeded);
  EXPECT_EQ(again.admit(callOf(&price, 4)).status, Status::kAdmitted);
}

TEST(LocalSpendState, PersistWritesTheFileAtomicallyAndReadsItBack) {
  tollgate::testing::TempDir dir;
  testing::TestClock clock;
  const auto price = testing::dollarPerInputToken();
  LocalSpendState state(configWith(dir.file("sub/spend.tsv"), 10), clock.clock(), nullptr);
  spend(state, price, 6);
  std::string error;
  ASSERT_TRUE(state.persist(error)) << error;
  std::ifstream in(dir.file("sub/spend.tsv"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto parsed = LocalSpendState::parseFile(text);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].name, "b");
  EXPECT_EQ((*parsed)[0].settled_pico, 6 * kUsd);
  EXPECT_EQ((*parsed)[0].fired_mask, 1u);  // 50 % fired
}

TEST(LocalSpendState, AMalformedFileStartsFromZeroInsteadOfFailing) {
  EXPECT_FALSE(LocalSpendState::parseFile("something else\n"));
  EXPECT_FALSE(LocalSpendState::parseFile("tollgate-spend-state 1\nb\t1\t2"));  // torn line
  EXPECT_FALSE(LocalSpendState::parseFile("tollgate-spend-state 1\nb\tx\t2\t0\n"));
  tollgate::testing::TempDir dir;
  dir.write("spend.tsv", "garbage");
  testing::TestClock clock;
  LocalSpendState state(configWith(dir.file("spend.tsv"), 10), clock.clock(), nullptr);
  EXPECT_EQ(state.budgets()[0].settled_pico, 0);
}

TEST(LocalSpendState, ThresholdsAlertOncePerPeriodAndAgainAfterTheRollover) {
  tollgate::testing::TempDir dir;
  testing::TestClock clock;
  testing::WebhookRecorder hook;
  AlertDispatcher::Options options;
  options.webhook.url = "http://127.0.0.1:1/hook";
  options.webhook.format = "cloudevents";
  AlertDispatcher alerts(options, hook.post());
  auto config = configWith(dir.file("spend.tsv"), 10);
  config->budgets[0].period = "day";
  LocalSpendState state(config, clock.clock(), &alerts);
  const auto price = testing::dollarPerInputToken();
  spend(state, price, 5);
  spend(state, price, 1);
  spend(state, price, 2);
  spend(state, price, 2);
  ASSERT_TRUE(hook.waitFor(3, std::chrono::seconds(10)));
  clock.now_ms += 86'400'000;  // the next day
  spend(state, price, 5);
  ASSERT_TRUE(hook.waitFor(4, std::chrono::seconds(10)));
  const auto bodies = hook.bodies();
  ASSERT_EQ(bodies.size(), 4u);
  EXPECT_THAT(bodies, ElementsAre(HasSubstr("\"id\":\"b/2026-12-05/50\""),
                                  HasSubstr("\"id\":\"b/2026-12-05/80\""),
                                  HasSubstr("\"id\":\"b/2026-12-05/100\""),
                                  HasSubstr("\"id\":\"b/2026-12-06/50\"")));
}

TEST(LocalSpendState, ReloadKeepsSpendAndTakesTheNewLimit) {
  tollgate::testing::TempDir dir;
  testing::TestClock clock;
  const auto price = testing::dollarPerInputToken();
  LocalSpendState state(configWith(dir.file("spend.tsv"), 10), clock.clock(), nullptr);
  spend(state, price, 6);
  state.reload(configWith(dir.file("spend.tsv"), 8));
  EXPECT_EQ(state.budgets()[0].settled_pico, 6 * kUsd);
  EXPECT_EQ(state.admit(callOf(&price, 3)).status, Status::kBudgetExceeded);
  EXPECT_EQ(state.admit(callOf(&price, 2)).status, Status::kAdmitted);
}

TEST(LocalSpendState, ConcurrentCallersNeverBookMoreThanTheLimit) {
  tollgate::testing::TempDir dir;
  testing::TestClock clock;
  const auto price = testing::dollarPerInputToken();
  LocalSpendState state(configWith(dir.file("spend.tsv"), 100), clock.clock(), nullptr);
  std::atomic<int64_t> booked{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 16; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const auto a = state.admit(callOf(&price, 1));
        if (a.status != Status::kAdmitted) continue;
        state.settle(a.hold, meter::Usage{1, 0, 0, 0, 0, 0}, meter::Money::fromPico(kUsd));
        booked += kUsd;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(booked.load(), 100 * kUsd);
  EXPECT_EQ(state.budgets()[0].settled_pico, 100 * kUsd);
}

}  // namespace
}  // namespace tollgate::gateway
