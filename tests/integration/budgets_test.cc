// Spend control end to end: budget and rate-limit refusals as the SDKs see them.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";

std::string chatBody(int max_tokens) {
  return R"({"model":"gpt-test-1","max_tokens":)" + std::to_string(max_tokens) +
         R"(,"messages":[{"role":"user","content":"Hi"}]})";
}

TEST(Budgets, ACallWhoseWorstCaseDoesNotFitGetsOpenAisExhaustedQuotaShape) {
  TempDir state;
  StackOptions options;
  options.extra_yaml =
      "budgets:\n"
      "  - { name: tiny, scope: {}, period: month, limit_usd: \"0.05\" }\n"
      "spend_state: { backend: local, file: \"" +
      state.file("spend.tsv") + "\" }\n";
  Stack stack(options);
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
  EXPECT_EQ(Json(events[1]).str("/data/outcome"), "ok");
}

TEST(Budgets, RequestsPerMinuteRefuseWithRetryAfterAndRateLimitHeaders) {
  TempDir state;
  StackOptions options;
  options.extra_yaml =
      "rate_limits:\n"
      "  - { name: two-rpm, scope: { team: fraud }, requests_per_minute: 2 }\n"
      "spend_state: { backend: local, file: \"" +
      state.file("spend.tsv") + "\" }\n";
  Stack stack(options);
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
}

}  // namespace
}  // namespace tollgate::testing
