// Spend control as a link of the CallPolicy chain: holds, settles, refusal shapes.
#include "gateway/policy/spend_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "gateway/policy/local_spend_state.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"
#include "tests/gateway/policy/spend_test_support.h"
#include "tests/integration/support/process.h"

namespace tollgate::gateway {
namespace {

using ::testing::Contains;
using ::testing::Not;
using ::testing::Pair;
using Status = SpendAdmission::Status;

constexpr int64_t kUsd = meter::Money::kPicoPerUsd;

class SpendPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = std::make_shared<config::Config>();
    c->spend_state.file = dir_.file("spend.tsv");
    c->budgets.push_back(testing::budgetOf("team-budget", 3 * kUsd));
    c->budgets[0].scope.team = "fraud";
    meter::PriceEntry price = testing::dollarPerInputToken();
    price.pattern = "gpt-*";
    c->prices.push_back(price);
    config_ = c;
    policy_ = std::make_unique<SpendPolicy>(
        config_, 1, nullptr, std::make_unique<LocalSpendState>(config_, clock_.clock(), nullptr));
  }

  // A call of `input` tokens to gpt-x by team fraud, through onRequest.
  std::optional<PolicyRefusal> request(PolicyCall& call, int64_t input) {
    info_.model = "gpt-x";
    info_.estimated_input_tokens = input;
    attribution_.team = "fraud";
    call.attribution = &attribution_;
    call.request = &info_;
    return policy_->onRequest(call);
  }

  tollgate::testing::TempDir dir_;
  testing::TestClock clock_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<SpendPolicy> policy_;
  meter::RequestInfo info_;
  meter::Attribution attribution_;
};

TEST_F(SpendPolicyTest, HoldsOnRequestAndSettlesTheEventsCost) {
  PolicyCall call;
  ASSERT_FALSE(request(call, 2));
  meter::CostEvent event;
  event.priced = true;
  event.usage.input_tokens = 2;
  event.cost.total = meter::Money::fromPico(2 * kUsd);
  policy_->onFinished(call, event);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 2 * kUsd);
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 0);
  PolicyCall next;
  const auto refusal = request(next, 2);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.status, 429);
  EXPECT_EQ(refusal->error.code, "budget_exceeded");
  EXPECT_EQ(refusal->limit_name, "team-budget");
  EXPECT_THAT(refusal->error.headers, Contains(Pair("x-should-retry", "false")));
}

TEST_F(SpendPolicyTest, ACallRefusedLaterReleasesItsHold) {
  PolicyCall call;
  ASSERT_FALSE(request(call, 3));
  meter::CostEvent event;
  event.outcome = meter::Outcome::kRejected;
  policy_->onFinished(call, event);
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 0);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 0);
}

// A retried call's earlier attempts (a 429 that still billed prompt tokens, say) are spent too:
// the budget settles the sum of every attempt's cost, exactly, with the call's last event.
TEST_F(SpendPolicyTest, EveryAttemptOfARetriedCallIsSettledOnce) {
  PolicyCall call;
  ASSERT_FALSE(request(call, 1));
  meter::CostEvent failed;
  failed.priced = true;
  failed.usage.input_tokens = 1;
  failed.cost.total = meter::Money::fromPico(kUsd / 4 + 7);
  policy_->onAttempt(call, failed);
  policy_->onAttempt(call, failed);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 0);  // settled with the last event
  meter::CostEvent last;
  last.priced = true;
  last.usage.input_tokens = 1;
  last.cost.total = meter::Money::fromPico(kUsd + 3);
  policy_->onFinished(call, last);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 2 * (kUsd / 4 + 7) + kUsd + 3);
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 0);
  // The hold is gone: a late event for the same call changes nothing.
  policy_->onFinished(call, last);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 2 * (kUsd / 4 + 7) + kUsd + 3);
}

// A call whose attempts reached upstreams and that the gateway then refused (no endpoint left)
// still spent what its attempts cost: its hold is settled, not released.
TEST_F(SpendPolicyTest, ARefusalAfterBilledAttemptsSettlesWhatTheyCost) {
  PolicyCall call;
  ASSERT_FALSE(request(call, 1));
  meter::CostEvent failed;
  failed.priced = true;
  failed.cost.total = meter::Money::fromPico(kUsd / 2);
  policy_->onAttempt(call, failed);
  meter::CostEvent refused;
  refused.outcome = meter::Outcome::kRejected;
  policy_->onFinished(call, refused);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, kUsd / 2);
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 0);
}

TEST_F(SpendPolicyTest, OtherTeamsAndUnpricedModelsPass) {
  PolicyCall call;
  info_.model = "llama-local";
  attribution_.team = "fraud";
  call.attribution = &attribution_;
  call.request = &info_;
  info_.estimated_input_tokens = 1'000'000;
  EXPECT_FALSE(policy_->onRequest(call));
}

// A stream's output through the policy's output hook: $1 per input and per output token, one
// input token, a request that allows 2 output tokens (a $3 hold), holds that grow by one token
// past it (default_output_tokens 4).
class SpendPolicyStreamTest : public SpendPolicyTest {
 protected:
  void SetUp() override {}  // each test makes its own configuration

  void make(std::string streams, int64_t limit_usd, uint64_t output_per_minute = 0) {
    auto c = std::make_shared<config::Config>();
    c->spend_state.file = dir_.file("spend.tsv");
    c->spend_state.default_output_tokens = 4;
    if (limit_usd > 0) {
      c->budgets.push_back(testing::budgetOf("team-budget", limit_usd * kUsd));
      c->budgets[0].streams = std::move(streams);
    }
    if (output_per_minute > 0) {
      config::RateLimitConfig limit;
      limit.name = "team-otpm";
      limit.output_tokens_per_minute = output_per_minute;
      c->rate_limits.push_back(limit);
    }
    meter::PriceEntry price = testing::dollarPerInputToken();
    price.price.output = price.price.reasoning = kUsd;
    c->prices.push_back(price);
    config_ = c;
    policy_ = std::make_unique<SpendPolicy>(
        config_, 1, nullptr, std::make_unique<LocalSpendState>(config_, clock_.clock(), nullptr));
  }

  void start(PolicyCall& call) {
    info_.model = "gpt-x";
    info_.stream = true;
    info_.estimated_input_tokens = 1;
    info_.max_output_tokens = 2;
    attribution_.team = "fraud";
    call.attribution = &attribution_;
    call.request = &info_;
    ASSERT_FALSE(policy_->onRequest(call));
  }

  std::string metrics() const {
    std::string out;
    PrometheusWriter writer(out);
    policy_->renderMetrics(writer);
    return out;
  }
};

TEST_F(SpendPolicyStreamTest, CutsTheStreamWhoseBlockingBudgetCannotCoverItsOutput) {
  make("cut", 10);
  PolicyCall call;
  start(call);
  EXPECT_TRUE(call.watches_output);
  EXPECT_FALSE(policy_->onOutput(call, 2));  // what was held
  EXPECT_FALSE(policy_->onOutput(call, 9));  // $1 + $9: exactly the limit
  const auto cut = policy_->onOutput(call, 10);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->limit_name, "team-budget");
  EXPECT_EQ(cut->code, "budget_exceeded");
  EXPECT_NE(cut->message.find("team-budget"), std::string::npos);
  EXPECT_NE(metrics().find("tollgate_spend_stream_cuts_total{limit=\"team-budget\"} 1\n"),
            std::string::npos)
      << metrics();
  // The cut call settles what it spent up to the cut.
  meter::CostEvent event;
  event.outcome = meter::Outcome::kBudgetCut;
  event.priced = true;
  event.cost.total = meter::Money::fromPico(10 * kUsd);
  policy_->onFinished(call, event);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 10 * kUsd);
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 0);
}

TEST_F(SpendPolicyStreamTest, StreamsFinishLetsTheStreamRunPastTheBudget) {
  make("finish", 10);
  PolicyCall call;
  start(call);
  EXPECT_FALSE(policy_->onOutput(call, 10));
  EXPECT_FALSE(policy_->onOutput(call, 50));
  EXPECT_EQ(metrics().find("tollgate_spend_stream_cuts_total{"), std::string::npos);
  meter::CostEvent event;
  event.priced = true;
  event.cost.total = meter::Money::fromPico(51 * kUsd);
  policy_->onFinished(call, event);
  EXPECT_EQ(policy_->state().budgets()[0].settled_pico, 51 * kUsd);  // the overrun is booked
}

TEST_F(SpendPolicyStreamTest, AnOutputRateLimitCutsWithRateLimited) {
  make("cut", 0, 5);
  PolicyCall call;
  start(call);
  EXPECT_TRUE(call.watches_output);
  EXPECT_FALSE(policy_->onOutput(call, 5));
  const auto cut = policy_->onOutput(call, 6);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->limit_name, "team-otpm");
  EXPECT_EQ(cut->code, "rate_limited");
}

TEST_F(SpendPolicyStreamTest, ACallNoBlockingBudgetHoldsIsNotWatched) {
  make("cut", 10);
  PolicyCall call;
  attribution_.team = "search";  // the budget has no scope: give it one the call misses
  auto c = std::make_shared<config::Config>(*config_);
  c->budgets[0].scope.team = "fraud";
  policy_->reload(c);
  info_.model = "gpt-x";
  info_.estimated_input_tokens = 1;
  call.attribution = &attribution_;
  call.request = &info_;
  ASSERT_FALSE(policy_->onRequest(call));
  EXPECT_FALSE(call.watches_output);
}

// $3 with clamp_max_tokens; $1 an input token and 1 cent an output token.
class SpendPolicyClampTest : public SpendPolicyTest {
 protected:
  void SetUp() override {
    auto c = std::make_shared<config::Config>();
    c->spend_state.file = dir_.file("spend.tsv");
    c->budgets.push_back(testing::budgetOf("clamped", 3 * kUsd));
    c->budgets[0].clamp_max_tokens = true;
    meter::PriceEntry price = testing::dollarPerInputToken();
    price.price.output = price.price.reasoning = kUsd / 100;
    c->prices.push_back(price);
    config_ = c;
    policy_ = std::make_unique<SpendPolicy>(
        config_, 1, nullptr, std::make_unique<LocalSpendState>(config_, clock_.clock(), nullptr));
    info_.operation = "chat";
    info_.max_output_tokens = 1000;  // $10 of output: more than the budget
  }
};

TEST_F(SpendPolicyClampTest, ACallThatFitsWithFewerTokensIsForwardedWithWhatTheBudgetBuys) {
  const meter::OpenAiDialect openai;
  PolicyCall call;
  call.dialect = &openai;
  ASSERT_FALSE(request(call, 1));
  // $3 - $1 of input buys 200 output tokens.
  EXPECT_EQ(call.max_output_tokens, 200);
  EXPECT_EQ(call.clamped_by, "clamped");
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 3 * kUsd);
}

TEST_F(SpendPolicyClampTest, ADialectWithoutAWritableCapIsRefusedInstead) {
  const meter::OllamaDialect ollama;
  PolicyCall call;
  call.dialect = &ollama;
  const auto refusal = request(call, 1);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.code, "budget_exceeded");
  EXPECT_EQ(refusal->limit_name, "clamped");
  EXPECT_FALSE(call.max_output_tokens);
  EXPECT_EQ(policy_->state().budgets()[0].held_pico, 0);
}

TEST(SpendPolicyRefusal, RateLimitedCarriesRetryAfterAndOpenAiRateLimitHeaders) {
  SpendAdmission admission;
  admission.status = Status::kRateLimited;
  admission.refused_by = "fraud-prod-tpm";
  admission.retry_after_s = 45;
  admission.headers = {true, 600, 0, 200000, 1234, 44'500};
  const auto refusal = SpendPolicy::refusalFor(admission);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.status, 429);
  EXPECT_EQ(refusal->error.code, "rate_limited");
  EXPECT_EQ(refusal->limit_name, "fraud-prod-tpm");
  EXPECT_THAT(refusal->error.headers, Contains(Pair("retry-after", "45")));
  EXPECT_THAT(refusal->error.headers, Contains(Pair("x-ratelimit-limit-requests", "600")));
  EXPECT_THAT(refusal->error.headers, Contains(Pair("x-ratelimit-remaining-requests", "0")));
  EXPECT_THAT(refusal->error.headers, Contains(Pair("x-ratelimit-reset-requests", "45s")));
  EXPECT_THAT(refusal->error.headers, Contains(Pair("x-ratelimit-limit-tokens", "200000")));
  EXPECT_THAT(refusal->error.headers, Contains(Pair("x-ratelimit-remaining-tokens", "1234")));
  EXPECT_THAT(refusal->error.headers, Not(Contains(Pair("x-should-retry", "false"))));
}

TEST(SpendPolicyRefusal, UnavailableIs503WithRetryAfter) {
  SpendAdmission admission;
  admission.status = Status::kUnavailable;
  admission.refused_by = "b";
  admission.retry_after_s = 1;
  const auto refusal = SpendPolicy::refusalFor(admission);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.status, 503);
  EXPECT_EQ(refusal->error.code, "spend_state_unavailable");
  EXPECT_THAT(refusal->error.headers, Contains(Pair("retry-after", "1")));
}

TEST(SpendPolicyCreate, NoBudgetsAndNoRateLimitsMeansNoPolicy) {
  auto c = std::make_shared<config::Config>();
  EXPECT_EQ(SpendPolicy::create(c, 1, systemSpendClock()), nullptr);
}

// Stands in for the Kafka alerts topic: records what it is given.
class RecordingChannel final : public AlertChannel {
 public:
  void publish(const BudgetAlert& alert, const std::string& cloud_event) override {
    std::lock_guard lock(mutex_);
    ids_.push_back(alert.id());
    events_.push_back(cloud_event);
  }
  Stats stats() const override { return {7, 2}; }
  std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::string> ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> ids_, events_;
};

TEST(SpendPolicyCreate, AnAlertChannelGetsEachCrossingOnceAsACloudEventAndIsCounted) {
  tollgate::testing::TempDir dir;
  auto c = std::make_shared<config::Config>();
  c->server.instance_id = "gw-1";
  c->spend_state.file = dir.file("spend.tsv");
  c->budgets.push_back(testing::budgetOf("team-budget", 4 * kUsd));
  c->budgets[0].alert_at = {50, 80};
  meter::PriceEntry price = testing::dollarPerInputToken();
  price.pattern = "gpt-*";
  c->prices.push_back(price);
  testing::TestClock clock;
  auto channel = std::make_shared<RecordingChannel>();
  auto policy = SpendPolicy::create(c, 1, clock.clock(), channel);
  ASSERT_NE(policy, nullptr);

  meter::RequestInfo info;
  info.model = "gpt-x";
  info.estimated_input_tokens = 1;
  meter::Attribution attribution;
  attribution.team = "fraud";
  for (int i = 0; i < 4; ++i) {  // $1 a call: 50 % after the 2nd, 80 % after the 4th (100 %)
    PolicyCall call;
    call.attribution = &attribution;
    call.request = &info;
    ASSERT_FALSE(policy->onRequest(call));
    meter::CostEvent event;
    event.priced = true;
    event.usage.input_tokens = 1;
    event.cost.total = meter::Money::fromPico(kUsd);
    policy->onFinished(call, event);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (channel->ids().size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_THAT(channel->ids(),
              ::testing::ElementsAre("team-budget/2026-12/50", "team-budget/2026-12/80"));
  ASSERT_EQ(channel->events().size(), 2u);
  EXPECT_THAT(channel->events()[0],
              ::testing::HasSubstr("\"type\":\"dev.tollgate.budget.threshold.v1\""));
  EXPECT_THAT(channel->events()[0], ::testing::HasSubstr("\"source\":\"tollgate://gw-1\""));
  std::string metrics;
  PrometheusWriter writer(metrics);
  policy->renderMetrics(writer);
  EXPECT_THAT(metrics, ::testing::HasSubstr("\ntollgate_budget_alerts_kafka_delivered_total 7\n"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("\ntollgate_budget_alerts_kafka_failed_total 2\n"));
}

}  // namespace
}  // namespace tollgate::gateway
