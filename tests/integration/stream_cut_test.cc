// A blocking budget that runs out while the answer streams: `streams: cut` ends the stream in
// the dialect's own form (a final event or an error event, never a silent truncation) and books
// `outcome: budget_cut` with the usage up to the cut; `streams: finish` books the overrun.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/integration/support/sse_events.h"
#include "tests/integration/support/stack.h"
#include "tests/integration/support/stream_requests.h"

namespace tollgate::testing {
namespace {

// A long stream: 2000 output tokens in 200 events of 10 tokens (40 bytes), 1 ms apart.
const Headers kLongStream = {{"x-team", "fraud"},
                             {"x-mock-prompt-tokens", "5"},
                             {"x-mock-completion-tokens", "2000"},
                             {"x-mock-chunks", "200"},
                             {"x-mock-chunk-delay-ms", "1"}};
constexpr int64_t kMockTokensSent = 2000;
// gpt-test and claude-test: $12 per million output tokens.
constexpr double kOutputUsdPerToken = 12e-6;

StackOptions budgetStack(const TempDir& state, const std::string& streams) {
  StackOptions options;
  options.extra_upstreams_yaml = kClaudeUpstreamYaml;
  options.extra_prices_yaml = "  \"claude-test*\": { input: \"3.00\", output: \"12.00\" }\n";
  // $0.01 buys about 830 output tokens; a hold of 100 output tokens fits, so the stream starts
  // and its hold grows as it runs.
  options.extra_yaml =
      "budgets:\n  - { name: team-cap, scope: { team: fraud }, limit_usd: \"0.01\", "
      "streams: " +
      streams +
      " }\n"
      "spend_state: { backend: local, default_output_tokens: 100, file: \"" +
      state.file("spend.tsv") + "\" }\n";
  return options;
}

class StreamCut : public ::testing::TestWithParam<StreamRequest> {};

TEST_P(StreamCut, ABlockingBudgetEndsALongStreamInTheDialectsOwnForm) {
  const StreamRequest& dialect = GetParam();
  TempDir state;
  Stack stack(budgetStack(state, "cut"));
  auto client = stack.gatewayClient();
  const auto r = client.post(dialect.path, dialect.body, kLongStream);
  ASSERT_EQ(r.status, 200) << r.body;
  bool whole = false;
  const auto events = parseSse(r.body, &whole);
  ASSERT_GE(events.size(), 2u) << r.body;
  // Well formed: every event whole and valid JSON, the body properly ended.
  EXPECT_TRUE(whole) << r.body.substr(r.body.size() > 400 ? r.body.size() - 400 : 0);
  EXPECT_TRUE(r.complete);
  for (const auto& e : events) {
    if (e.data != "[DONE]") {
      EXPECT_TRUE(Json(e.data).ok()) << e.data;
    }
  }
  const std::string path = dialect.path;
  if (path == "/v1/chat/completions") {
    ASSERT_EQ(events.back().data, "[DONE]");
    const Json last(events[events.size() - 2].data);
    EXPECT_EQ(last.str("/choices/0/finish_reason"), "length");
    EXPECT_EQ(last.str("/tollgate/outcome"), "budget_cut");
    EXPECT_EQ(last.str("/tollgate/limit"), "team-cap");
    EXPECT_EQ(last.str("/id"), "chatcmpl-mock-0");
  } else if (path == "/v1/responses") {
    EXPECT_EQ(events.back().event, "response.incomplete");
    const Json last(events.back().data);
    EXPECT_EQ(last.str("/response/status"), "incomplete");
    EXPECT_EQ(last.str("/response/id"), "resp_mock_0");
    for (const auto& e : events) EXPECT_NE(e.event, "response.completed");
  } else {
    EXPECT_EQ(events.back().event, "error");
    const Json last(events.back().data);
    EXPECT_EQ(last.str("/error/type"), "rate_limit_error");
    EXPECT_NE(last.str("/error/message").find("team-cap"), std::string::npos);
    for (const auto& e : events) EXPECT_NE(e.event, "message_stop");
  }

  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  const Json event(lines[0]);
  EXPECT_EQ(event.str("/data/outcome"), "budget_cut");
  EXPECT_EQ(event.str("/data/limit"), "team-cap");
  EXPECT_EQ(event.str("/data/usage_source"), "estimated");
  const int64_t booked = event.num("/data/usage/output_tokens");
  // About 830 tokens fit in $0.01 with the input; the hold grows 25 tokens at a time and a read
  // may carry a few events past the one that did not fit.
  EXPECT_GT(booked, 700);
  EXPECT_LT(booked, 900);
  const double cost = std::stod(event.str("/data/cost/total"));
  EXPECT_LE(cost, 0.01 + 50 * kOutputUsdPerToken);
  const Json calls(stack.mockCalls());
  const int64_t sent = calls.num("/calls/0/output_tokens_sent");
  EXPECT_FALSE(calls.boolean("/calls/0/completed"));  // the upstream call was closed
  EXPECT_LT(sent, kMockTokensSent);
  EXPECT_LE(booked, sent);
  std::printf(
      "%s: cut at %lld output tokens booked (estimated), mock sent %lld: error %lld "
      "tokens; cost $%s of $0.01\n",
      dialect.name, static_cast<long long>(booked), static_cast<long long>(sent),
      static_cast<long long>(booked - sent), event.str("/data/cost/total").c_str());
  EXPECT_EQ(stack.metric("tollgate_spend_stream_cuts_total{limit=\"team-cap\"}"), 1);
  // The connection stays usable after a clean end, and the spent budget refuses the next call.
  const auto next = client.post(dialect.path, dialect.body, kLongStream);
  EXPECT_EQ(next.status, 429) << next.body;
}

INSTANTIATE_TEST_SUITE_P(Dialects, StreamCut,
                         ::testing::Values(kChatStream, kResponsesStream, kMessagesStream),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           for (char& c : name) {
                             if (c == ' ') c = '_';
                           }
                           return name;
                         });

TEST(StreamCutFinish, StreamsFinishCompletesTheStreamAndBooksTheOverrun) {
  TempDir state;
  Stack stack(budgetStack(state, "finish"));
  auto client = stack.gatewayClient();
  const auto r = client.post(kChatStream.path, kChatStream.body, kLongStream);
  ASSERT_EQ(r.status, 200);
  const auto events = parseSse(r.body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(Json(events[events.size() - 2].data).str("/choices/0/finish_reason"), "stop");
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  const Json event(lines[0]);
  EXPECT_EQ(event.str("/data/outcome"), "ok");
  EXPECT_EQ(event.num("/data/usage/output_tokens"), kMockTokensSent);
  EXPECT_EQ(event.str("/data/usage_source"), "provider");
  // 5 x $3 + 2000 x $12 per million: $0.024015, booked whole, past the $0.01 limit.
  EXPECT_EQ(event.str("/data/cost/total"), "0.024015");
  EXPECT_EQ(stack.metric("tollgate_spend_stream_cuts_total{limit=\"team-cap\"}"), -1);
}

TEST(StreamCutRateLimit, AnOutputRateLimitCutsTheStreamWithRateLimited) {
  TempDir state;
  StackOptions options;
  options.extra_yaml =
      "rate_limits:\n"
      "  - { name: team-otpm, scope: { team: fraud }, output_tokens_per_minute: 500 }\n"
      "spend_state: { backend: local, file: \"" +
      state.file("spend.tsv") + "\" }\n";
  Stack stack(options);
  auto client = stack.gatewayClient();
  const auto r = client.post(kChatStream.path, kChatStream.body, kLongStream);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete);
  const auto events = parseSse(r.body);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back().data, "[DONE]");
  const Json last(events[events.size() - 2].data);
  EXPECT_EQ(last.str("/choices/0/finish_reason"), "length");
  EXPECT_EQ(last.str("/tollgate/code"), "rate_limited");
  EXPECT_EQ(last.str("/tollgate/limit"), "team-otpm");
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  const Json event(lines[0]);
  EXPECT_EQ(event.str("/data/outcome"), "budget_cut");
  EXPECT_EQ(event.str("/data/limit"), "team-otpm");
  // 500 tokens a minute: the stream passes it by at most one read.
  EXPECT_GT(event.num("/data/usage/output_tokens"), 500);
  EXPECT_LT(event.num("/data/usage/output_tokens"), 600);
  EXPECT_EQ(stack.metric("tollgate_spend_stream_cuts_total{limit=\"team-otpm\"}"), 1);
}

}  // namespace
}  // namespace tollgate::testing
