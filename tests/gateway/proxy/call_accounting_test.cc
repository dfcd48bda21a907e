#include "gateway/proxy/call_accounting.h"

#include <gtest/gtest.h>

#include <chrono>

#include "gateway/proxy/attempt_accounting.h"
#include "meter/price_book.h"

namespace tollgate::gateway {
namespace {

using namespace std::chrono_literals;

meter::PriceEntry entry(std::string pattern, std::string_view input, std::string_view output) {
  meter::PriceEntry e;
  e.pattern = std::move(pattern);
  e.price.input = *meter::parsePerMillionPrice(input);
  e.price.output = *meter::parsePerMillionPrice(output);
  e.price.cache_read = e.price.input;
  e.price.cache_write = e.price.input;
  e.price.reasoning = e.price.output;
  return e;
}

class CallAccountingTest : public ::testing::Test {
 protected:
  CallAccountingTest()
      : prices_("v1", {entry("gpt-4o-mini*", "0.15", "0.60"), entry("claude-*", "3", "15")}),
        coster_(prices_) {
    upstream_.name = "openai-main";
    upstream_.dialect = "openai";
    call_.start = CallRecord::Clock::time_point(1000s);
    call_.start_wall = std::chrono::system_clock::time_point(1'800'000'000s);
    call_.request_id = "req-1";
    call_.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    call_.endpoint = "/v1/chat/completions";
    call_.info.model = "gpt-4o-mini";
    call_.info.operation = "chat";
    call_.attribution.team = "fraud-platform";
  }

  meter::PriceBook prices_;
  meter::TokenCoster coster_;
  config::UpstreamConfig upstream_;
  CallRecord call_;
};

TEST_F(CallAccountingTest, MeteredAnswerIsPricedAtTheAnsweredModel) {
  call_.upstream = &upstream_;
  call_.status = 200;
  call_.metered = true;
  call_.result.response_model = "gpt-4o-mini-2024-07-18";
  call_.result.usage.input_tokens = 1'000'000;
  call_.result.usage.output_tokens = 100'000;
  call_.result.usage_source = meter::UsageSource::kProvider;
  call_.upstream_start = call_.start + 2ms;
  call_.first_byte = call_.start + 50ms;
  call_.has_first_byte = true;
  call_.upstream_end = call_.start + 300ms;

  const auto event = accountCall(call_, "tollgate://a", call_.start + 303ms, coster_);
  EXPECT_EQ(event.id, "req-1");
  EXPECT_EQ(event.source, "tollgate://a");
  EXPECT_EQ(event.model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(event.model_requested, "gpt-4o-mini");
  EXPECT_EQ(event.upstream, "openai-main");
  EXPECT_EQ(event.provider, "openai");
  EXPECT_EQ(event.attribution.team, "fraud-platform");
  EXPECT_TRUE(event.priced);
  EXPECT_EQ(event.price_ref, "v1/gpt-4o-mini*");
  // 1M input at $0.15 + 0.1M output at $0.60 = $0.21.
  EXPECT_EQ(event.cost.total.toDecimalString(), "0.21");
  EXPECT_EQ(event.end_unix_ns - event.start_unix_ns, 303'000'000);
  EXPECT_DOUBLE_EQ(event.ttft_ms, 50.0);
  // 303 ms in all, 298 of them upstream: 5 ms in the gateway.
  EXPECT_EQ(event.overhead_us, 5'000);
  EXPECT_TRUE(call_.error_type.empty());
}

TEST_F(CallAccountingTest, UsageOnAnotherModelAndTheProvidersCostReachTheEvent) {
  call_.upstream = &upstream_;
  call_.status = 200;
  call_.metered = true;
  call_.info.model = "claude-sonnet-4-6";
  call_.result.usage.input_tokens = 1'000'000;
  call_.result.other_models.push_back(
      {"claude-opus-4-6", meter::Usage{.input_tokens = 100'000, .output_tokens = 10'000}});
  call_.result.provider_cost = meter::Money::fromPico(4'000'000'000'000);
  const auto event = accountCall(call_, "tollgate://a", call_.start + 1ms, coster_);
  ASSERT_EQ(event.other_models.size(), 1u);
  EXPECT_EQ(event.other_models[0].price_ref, "v1/claude-*");
  // The advisor's 0.1M x $3 + 0.01M x $15 = $0.45, beside the call's own 1M x $3.
  EXPECT_EQ(event.cost.other_models.toDecimalString(), "0.45");
  EXPECT_EQ(event.cost.total.toDecimalString(), "3.45");
  EXPECT_EQ(event.provider_cost, meter::Money::fromPico(4'000'000'000'000));
  EXPECT_TRUE(meter::usesLineItems(event));
}

TEST_F(CallAccountingTest, APoolCallsEventNamesThePoolWithItsEstimateFromTheReplicasOccupancy) {
  call_.upstream = &upstream_;
  call_.status = 200;
  call_.upstream_start = call_.start;
  call_.upstream_end = call_.start + 3600s;
  call_.gpu_pool = "h100-a";
  call_.gpu_pool_hour_pico = __int128{192} * meter::Money::kPicoPerUsd;
  // Two calls in flight on average over the hour: half of the pool's $192.
  call_.gpu_pool_occupancy_ns = __int128{2} * 3'600'000'000'000;
  const auto event = accountCall(call_, "s", call_.upstream_end, coster_);
  EXPECT_EQ(event.gpu_pool, "h100-a");
  EXPECT_EQ(event.gpu_cost_estimate.toDecimalString(), "96");

  CallRecord plain;
  plain.upstream = &upstream_;
  EXPECT_EQ(accountCall(plain, "s", plain.start, coster_).gpu_pool, "");
}

TEST_F(CallAccountingTest, UnknownAnsweredModelFallsBackToTheRequestedOnesPrice) {
  call_.upstream = &upstream_;
  call_.status = 200;
  call_.metered = true;
  call_.result.response_model = "some-alias";
  call_.result.usage.input_tokens = 1'000'000;
  const auto event = accountCall(call_, "s", call_.start, coster_);
  EXPECT_TRUE(event.priced);
  EXPECT_EQ(event.cost.total.toDecimalString(), "0.15");
}

TEST_F(CallAccountingTest, RefusedCallIsNotPricedAndKeepsItsErrorType) {
  call_.status = 403;
  call_.outcome = meter::Outcome::kRejected;
  call_.error_type = "model_not_allowed";
  const auto event = accountCall(call_, "s", call_.start, coster_);
  EXPECT_FALSE(event.priced);
  EXPECT_TRUE(event.upstream.empty());
  EXPECT_EQ(event.outcome, meter::Outcome::kRejected);
  EXPECT_EQ(call_.error_type, "model_not_allowed");
}

TEST_F(CallAccountingTest, ASpendRefusalNamesItsLimitAndAClampItsCap) {
  call_.status = 429;
  call_.outcome = meter::Outcome::kRejected;
  call_.error_type = "budget_exceeded";
  call_.limit = "fraud-monthly";
  auto event = accountCall(call_, "s", call_.start, coster_);
  EXPECT_EQ(event.limit, "fraud-monthly");
  EXPECT_FALSE(event.max_tokens_clamped.has_value());

  CallRecord clamped;
  clamped.limit = "fraud-monthly";
  clamped.max_tokens_clamped = 250;
  event = accountCall(clamped, "s", clamped.start, coster_);
  EXPECT_EQ(event.limit, "fraud-monthly");
  EXPECT_EQ(event.max_tokens_clamped, 250);
}

TEST_F(CallAccountingTest, UpstreamErrorInTheAnswerNamesTheErrorType) {
  call_.upstream = &upstream_;
  call_.status = 429;
  call_.metered = true;
  call_.result.upstream_error = true;
  call_.result.error_type = "rate_limit_exceeded";
  accountCall(call_, "s", call_.start, coster_);
  EXPECT_EQ(call_.error_type, "rate_limit_exceeded");

  CallRecord other;
  other.status = 502;
  accountCall(other, "s", other.start, coster_);
  EXPECT_EQ(other.error_type, "502");
}

TEST_F(CallAccountingTest, ReportedServiceTierWinsOverTheRequestedOne) {
  auto flex = entry("gpt-4o-mini*", "0.075", "0.30");
  flex.variant = "flex";
  meter::PriceBook prices("v1", {entry("gpt-4o-mini*", "0.15", "0.60"), flex});
  meter::TokenCoster coster(prices);
  call_.upstream = &upstream_;
  call_.metered = true;
  call_.info.service_tier = "default";
  call_.result.service_tier = "flex";
  call_.result.usage.input_tokens = 1'000'000;
  const auto event = accountCall(call_, "s", call_.start, coster);
  EXPECT_EQ(event.price_ref, "v1/gpt-4o-mini*#flex");
  EXPECT_EQ(event.cost.total.toDecimalString(), "0.075");
}

// Retries and fallbacks: one event per attempt (gateway/proxy/attempt_accounting.h).
TEST_F(CallAccountingTest, AFailedAttemptIsBookedAndTheCallKeepsItsAttribution) {
  upstream_.host_header = "10.0.0.2:8000";
  call_.upstream = &upstream_;
  call_.status = 429;
  call_.outcome = meter::Outcome::kUpstreamError;
  call_.metered = true;
  call_.result.usage.input_tokens = 1'000;
  call_.endpoint_index = 1;
  const auto event = accountAttempt(call_, "tollgate://t", call_.start + 10ms, coster_);
  EXPECT_EQ(event.id, "req-1");
  EXPECT_EQ(event.attempt, 1u);
  EXPECT_FALSE(event.final_attempt);
  EXPECT_EQ(event.upstream_endpoint_index, 1u);
  EXPECT_EQ(event.upstream_endpoint_host, "10.0.0.2:8000");
  EXPECT_EQ(event.status, 429);
  EXPECT_EQ(event.attribution.team, "fraud-platform");
  EXPECT_EQ(event.cost.total.pico(), int64_t{1'000} * 150'000);  // $0.15 per 1M input tokens
  EXPECT_EQ(call_.attribution.team, "fraud-platform");
  EXPECT_EQ(call_.attempts_booked, 1u);

  resetAttempt(call_);
  EXPECT_EQ(call_.status, 0);
  EXPECT_FALSE(call_.metered);
  EXPECT_EQ(call_.result.usage.input_tokens, 0);
  const auto second = accountAttempt(call_, "tollgate://t", call_.start + 20ms, coster_);
  EXPECT_EQ(second.id, "req-1-2");
  EXPECT_EQ(second.attempt, 2u);
}

TEST_F(CallAccountingTest, AFallbackAttemptIsPricedAtTheModelItAskedFor) {
  call_.upstream = &upstream_;
  call_.attempt_model = "claude-sonnet-4-5";
  call_.status = 200;
  call_.metered = true;
  call_.result.usage.input_tokens = 1'000;
  call_.attempts_booked = 1;
  const auto event = accountAttempt(call_, "tollgate://t", call_.start + 10ms, coster_);
  EXPECT_EQ(event.model_requested, "gpt-4o-mini");  // the client's
  EXPECT_EQ(event.model, "claude-sonnet-4-5");
  EXPECT_EQ(event.cost.total.pico(), int64_t{1'000} * 3'000'000);  // $3 per 1M input tokens
  EXPECT_EQ(event.id, "req-1-2");
}

TEST_F(CallAccountingTest, TheLastEventOfARetriedCallIsTheFinalAttempt) {
  call_.upstream = &upstream_;
  meter::CostEvent only;
  only.id = "req-1";
  stampLastAttempt(call_, only);  // one attempt: unchanged
  EXPECT_EQ(only.id, "req-1");
  EXPECT_EQ(only.attempt, 0u);
  call_.attempts_booked = 2;
  meter::CostEvent last;
  last.id = "req-1";
  stampLastAttempt(call_, last);
  EXPECT_EQ(last.id, "req-1-3");
  EXPECT_EQ(last.attempt, 3u);
  EXPECT_TRUE(last.final_attempt);
}

TEST(StampAttempt, OnlyAttemptsAfterTheFirstGetANewId) {
  meter::CostEvent event;
  event.id = "req-9";
  stampAttempt(event, 1, false, 0, "a:1");
  EXPECT_EQ(event.id, "req-9");
  meter::CostEvent third;
  third.id = "req-9";
  stampAttempt(third, 3, true, 2, "b:2");
  EXPECT_EQ(third.id, "req-9-3");
  EXPECT_TRUE(third.final_attempt);
  EXPECT_EQ(third.upstream_endpoint_index, 2u);
}

}  // namespace
}  // namespace tollgate::gateway
