#include "gateway/proxy/call_attempts.h"

#include <gtest/gtest.h>

#include "gateway/upstream/endpoint_metrics.h"

namespace tollgate::gateway {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

config::UpstreamConfig twoEndpoints() {
  config::UpstreamConfig upstream;
  upstream.name = "pool";
  for (int i = 0; i < 2; ++i) {
    config::UpstreamEndpoint endpoint;
    endpoint.base_url = "http://10.0.0." + std::to_string(i + 1);
    upstream.endpoints.push_back(endpoint);
  }
  return upstream;
}

SpanId spanId(const char* hex) {
  SpanId id;
  id = hex;
  return id;
}

TEST(CallAttempts, EachAttemptIsRecordedWithItsOutcomeAndNextStep) {
  const auto upstream = twoEndpoints();
  const Clock::time_point t0(100s);
  EndpointSet endpoints(upstream, t0);
  EndpointStats stats0;
  EndpointStats stats1;
  endpoints.attachStats(0, stats0, t0);
  endpoints.attachStats(1, stats1, t0);
  CallRecord call;

  beginAttempt(call, upstream, 0, spanId("aaaaaaaaaaaaaaaa"), t0);
  endAttempt(call, endpoints, AttemptResult::kConnectError, 0, AttemptNext::kNextEndpoint,
             t0 + 3ms);
  beginAttempt(call, upstream, 1, spanId("bbbbbbbbbbbbbbbb"), t0 + 3ms);
  endAttempt(call, endpoints, AttemptResult::kSuccess, 200, AttemptNext::kNone, t0 + 50ms);
  // A second end of the same attempt changes nothing.
  endAttempt(call, endpoints, AttemptResult::k5xx, 500, AttemptNext::kFallback, t0 + 60ms);

  ASSERT_EQ(call.attempts.size(), 2u);
  EXPECT_EQ(call.attempts[0].number, 1u);
  EXPECT_EQ(call.attempts[0].failure, "connect_error");
  EXPECT_EQ(call.attempts[0].next, "retry");
  EXPECT_EQ(call.attempts[0].end, t0 + 3ms);
  EXPECT_EQ(call.attempts[1].number, 2u);
  EXPECT_EQ(call.attempts[1].endpoint, 1u);
  EXPECT_EQ(call.attempts[1].status, 200);
  EXPECT_EQ(call.attempts[1].failure, "");
  EXPECT_EQ(call.attempts[1].next, "");
  EXPECT_EQ(call.attempts[1].end, t0 + 50ms);
  EXPECT_EQ(stats0.retried.load(), 1u);
  EXPECT_EQ(stats1.retried.load(), 0u);
  EXPECT_EQ(stats1.fallbacks.load(), 0u);
}

TEST(CallAttempts, AFallbackIsCountedOnTheEndpointTheCallLeft) {
  const auto upstream = twoEndpoints();
  const Clock::time_point t0(100s);
  EndpointSet endpoints(upstream, t0);
  EndpointStats stats;
  endpoints.attachStats(1, stats, t0);
  CallRecord call;
  beginAttempt(call, upstream, 1, spanId("aaaaaaaaaaaaaaaa"), t0);
  endAttempt(call, endpoints, AttemptResult::k429, 429, AttemptNext::kFallback, t0 + 1ms);
  EXPECT_EQ(stats.fallbacks.load(), 1u);
  EXPECT_EQ(call.attempts[0].failure, "429");
  EXPECT_EQ(call.attempts[0].next, "fallback");
}

TEST(CallAttempts, TheAttemptOpenAtBookingEndsWithTheCallsOutcome) {
  const auto upstream = twoEndpoints();
  const Clock::time_point t0(100s);
  CallRecord call;
  beginAttempt(call, upstream, 1, spanId("aaaaaaaaaaaaaaaa"), t0);
  call.status = 503;
  endFinalAttempt(call, t0 + 40ms);
  ASSERT_EQ(call.attempts.size(), 1u);
  EXPECT_EQ(call.attempts[0].status, 503);
  EXPECT_EQ(call.attempts[0].failure, "5xx");
  EXPECT_EQ(call.attempts[0].next, "");
  EXPECT_EQ(call.attempts[0].end, t0 + 40ms);
}

TEST(CallAttempts, AResetBeforeTheHeadIsAConnectErrorWithoutAnUpstreamStatus) {
  const auto upstream = twoEndpoints();
  const Clock::time_point t0(100s);
  CallRecord call;
  beginAttempt(call, upstream, 0, spanId("aaaaaaaaaaaaaaaa"), t0);
  call.status = 502;  // the gateway's answer, not the upstream's
  call.error_type = "upstream_connection_error";
  endFinalAttempt(call, t0 + 1ms);
  EXPECT_EQ(call.attempts[0].status, 0);
  EXPECT_EQ(call.attempts[0].failure, "connect_error");
}

TEST(CallAttempts, ACallWithoutAttemptsStaysWithout) {
  CallRecord call;
  endFinalAttempt(call, Clock::time_point(100s));
  EXPECT_TRUE(call.attempts.empty());
}

TEST(CallAttempts, NoHeadWithinTheTtftTimeoutIsATtftTimeout) {
  CallRecord call;
  call.status = 504;
  call.error_type = "upstream_ttft_timeout";
  EXPECT_EQ(attemptResultOf(call), AttemptResult::kTtftTimeout);
}

TEST(CallAttempts, ThePlannersDecisionNamesTheNextStep) {
  EXPECT_EQ(attemptNextOf(FailoverPlanner::Kind::kNextEndpoint), AttemptNext::kNextEndpoint);
  EXPECT_EQ(attemptNextOf(FailoverPlanner::Kind::kFallback), AttemptNext::kFallback);
  EXPECT_EQ(attemptNextOf(FailoverPlanner::Kind::kGiveUp), AttemptNext::kNone);
}

}  // namespace
}  // namespace tollgate::gateway
