// Spend control end to end: budget and rate-limit refusals as the SDKs see them.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";

std::string chatBody(int max_tokens) {
  return R"({"model":"gpt-test-1","max_tokens":)" + std::to_string(max_tokens) +
         R"(,"messages":[{"role":"user","content":"Hi"}]})";
}

// A stack whose spend control holds `rules` (budgets:, rate_limits:) in the local backend, its
// state file in `state`.
StackOptions localSpend(const std::string& rules, const TempDir& state) {
  StackOptions options;
  options.extra_yaml =
      rules + "spend_state: { backend: local, file: \"" + state.file("spend.tsv") + "\" }\n";
  return options;
}

TEST(Budgets, ACallWhoseWorstCaseDoesNotFitGetsOpenAisExhaustedQuotaShape) {
  TempDir state;
  Stack stack(
      localSpend("budgets:\n"
                 "  - { name: tiny, scope: {}, period: month, limit_usd: \"0.05\" }\n",
                 state));
  auto client = stack.gatewayClient();
  // 5000 output tokens at $12 per million: $0.06 held, more than the $0.05 limit.
  const auto refused = client.post(kChat, chatBody(5000), {{"x-team", "fraud"}});
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("x-should-retry"), "false");
  EXPECT_FALSE(refused.header("retry-after").empty());
  const Json body(refused.body);
  ASSERT_TRUE(body.ok()) << refused.body;
  EXPECT_EQ(body.str("/error/code"), "budget_exceeded");
  // A call that fits goes through.
  const auto fits = client.post(kChat, chatBody(100), {{"x-team", "fraud"}});
  EXPECT_EQ(fits.status, 200) << fits.body;
  const auto events = stack.waitForEvents(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(Json(events[0]).str("/data/outcome"), "rejected");
  EXPECT_EQ(Json(events[0]).str("/data/limit"), "tiny");
  EXPECT_EQ(Json(events[1]).str("/data/outcome"), "ok");
  EXPECT_EQ(events[1].find("\"limit\""), std::string::npos) << events[1];
  EXPECT_EQ(stack.metric("tollgate_spend_refusals_total{code=\"budget_exceeded\"}"), 1);
  EXPECT_EQ(stack.metric("tollgate_spend_holds_settled_total"), 1);
}

TEST(Budgets, AClampedCallIsForwardedWithTheOutputItsBudgetBuysAndSaysSo) {
  TempDir state;
  Stack stack(localSpend(
      "budgets:\n"
      "  - { name: clamped, scope: {}, period: month, limit_usd: \"0.05\", clamp_max_tokens: true "
      "}\n",
      state));
  auto client = stack.gatewayClient();
  // 5000 output tokens at $12 per million would hold $0.06: the rest of $0.05 buys about 4165.
  const auto r = client.post(kChat, chatBody(5000), {{"x-team", "fraud"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const auto events = stack.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  const Json event(events[0]);
  EXPECT_EQ(event.str("/data/outcome"), "ok");
  EXPECT_EQ(event.str("/data/limit"), "clamped");
  const int64_t cap = event.num("/data/max_tokens_clamped");
  EXPECT_GT(cap, 4000);
  EXPECT_LT(cap, 5000);
  // The upstream got the lowered cap in place of the request's, the rest of the body as sent
  // (its Content-Length follows the body: the mock read it whole).
  const Json calls(stack.mockCalls());
  ASSERT_TRUE(calls.ok());
  std::string expected = chatBody(5000);
  expected.replace(expected.find("5000"), 4, std::to_string(cap));
  EXPECT_EQ(calls.str("/calls/0/body"), expected);
  EXPECT_EQ(stack.metric("tollgate_spend_holds_settled_total"), 1);

  // A stream: the clamp and the gateway's own stream_options edit both reach the upstream.
  const std::string streamed =
      R"({"model":"gpt-test-1","stream":true,"max_tokens":5000,"messages":[{"role":"user","content":"Hi"}]})";
  const auto s = client.post(kChat, streamed, {{"x-team", "fraud"}});
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_NE(s.body.find("data: [DONE]"), std::string::npos) << s.body;
  const auto both = stack.waitForEvents(2);
  ASSERT_EQ(both.size(), 2u);
  const int64_t stream_cap = Json(both[1]).num("/data/max_tokens_clamped");
  EXPECT_GT(stream_cap, 4000);
  EXPECT_LE(stream_cap, cap);  // the first call's spend is gone from the budget
  const std::string forwarded = Json(stack.mockCalls()).str("/calls/1/body");
  EXPECT_NE(forwarded.find(R"("max_tokens":)" + std::to_string(stream_cap) + ","),
            std::string::npos)
      << forwarded;
  EXPECT_NE(forwarded.find(R"("include_usage":true)"), std::string::npos) << forwarded;
  EXPECT_EQ(forwarded.find("5000"), std::string::npos) << forwarded;
}

TEST(Budgets, RequestsPerMinuteRefuseWithRetryAfterAndRateLimitHeaders) {
  TempDir state;
  Stack stack(
      localSpend("rate_limits:\n"
                 "  - { name: two-rpm, scope: { team: fraud }, requests_per_minute: 2 }\n",
                 state));
  auto client = stack.gatewayClient();
  EXPECT_EQ(client.post(kChat, chatBody(10), {{"x-team", "fraud"}}).status, 200);
  EXPECT_EQ(client.post(kChat, chatBody(10), {{"x-team", "fraud"}}).status, 200);
  const auto refused = client.post(kChat, chatBody(10), {{"x-team", "fraud"}});
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(Json(refused.body).str("/error/code"), "rate_limited");
  EXPECT_EQ(refused.header("x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(refused.header("x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(refused.header("retry-after").empty());
  EXPECT_TRUE(refused.header("x-should-retry").empty());
  // Another team is not limited.
  EXPECT_EQ(client.post(kChat, chatBody(10), {{"x-team", "search"}}).status, 200);
  const auto events = stack.waitForEvents(4);
  ASSERT_EQ(events.size(), 4u);
  const Json booked(events[2]);
  EXPECT_EQ(booked.str("/data/outcome"), "rejected");
  EXPECT_EQ(booked.num("/data/status"), 429);
  EXPECT_EQ(booked.str("/data/limit"), "two-rpm");
}

// Calls whose worst case equals their cost: "Hi" is estimated at 5 input tokens (1 for its two
// bytes, 4 for the message) and the mock reports exactly 5 in and max_tokens (16) out. At
// gpt-test's $3 / $12 per million: 5 x 3e6 + 16 x 12e6 = 207,000,000 picodollars a call.
constexpr int64_t kCallPico = 207'000'000;
const Headers kKnownCost = {
    {"x-team", "fraud"}, {"x-mock-prompt-tokens", "5"}, {"x-mock-completion-tokens", "16"}};

const std::string kRaceBudget =
    "budgets:\n"
    "  - { name: race, scope: {}, limit_usd: \"0.01\" }\n";

TEST(Budgets, SixtyFourConcurrentCallersNeverBookPastTheLimitAndARestartKeepsTheSpend) {
  TempDir state;
  int admitted = 0;
  {
    StackOptions options = localSpend(kRaceBudget, state);
    options.workers = 2;
    Stack stack(options);
    std::atomic<int> ok{0};
    std::atomic<int> other{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < 64; ++t) {
      callers.emplace_back([&] {
        auto client = stack.gatewayClient();
        for (int i = 0; i < 20; ++i) {
          const auto r = client.post(kChat, chatBody(16), kKnownCost);
          if (r.status == 200) {
            ++ok;
          } else if (r.status == 429) {
            return;
          } else {
            ++other;
          }
        }
      });
    }
    for (auto& t : callers) t.join();
    admitted = ok.load();
    EXPECT_EQ(other.load(), 0);
    // $0.01 buys 48 calls of 207e6 picodollars; concurrency must not let one more through.
    EXPECT_LE(static_cast<int64_t>(admitted) * kCallPico, 10'000'000'000);
    EXPECT_EQ(admitted, 48);
    std::printf("admitted %d calls: $%.9f of $0.01\n", admitted,
                static_cast<double>(admitted) * kCallPico / 1e12);
  }
  // The gateway stopped; a new one reads the spend back and refuses at once.
  Stack again(localSpend(kRaceBudget, state));
  auto client = again.gatewayClient();
  const auto refused = client.post(kChat, chatBody(16), kKnownCost);
  EXPECT_EQ(refused.status, 429) << refused.body;
}

}  // namespace
}  // namespace tollgate::testing
