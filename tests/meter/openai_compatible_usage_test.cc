// OpenAI-compatible providers whose usage objects follow another convention than OpenAI's
// (docs/metering.md, "OpenAI-compatible conventions"), streamed and not, split at every byte,
// read from raw bytes and by simdjson alike.
#include <gtest/gtest.h>

#include "dialect_test_support.h"
#include "meter/meter_support.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::feed;
using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kSse = "text/event-stream";
constexpr std::string_view kJson = "application/json";

RequestInfo chatInfo(std::string model, bool stream, bool gateway_asked = false) {
  RequestInfo info;
  info.model = std::move(model);
  info.operation = "chat";
  info.stream = stream;
  info.client_asked_usage = stream && !gateway_asked;
  info.gateway_asked_usage = stream && gateway_asked;
  info.estimated_input_tokens = 10;
  return info;
}

MeterResult meterBothWays(const RequestInfo& info, std::string_view type, std::string_view body) {
  return testing::meterBothWays(OpenAiDialect{}, info, type, body);
}

// deepseek-chat / deepseek-reasoner as api-docs.deepseek.com/quick_start/pricing lists them from
// 2025-09-05 (the stored copy read on 2026-12-05): 0.56 per 1M input (cache miss), 0.07 cache
// hit, 1.68 output.
PriceEntry deepseek() {
  PriceEntry entry;
  entry.pattern = "deepseek-*";
  entry.price = testing::perMillion("0.56", "0.07", "0.56", "1.68");
  return entry;
}

// Prices for the test (not a catalog entry): 0.30 per 1M input, 0.075 cached, 0.50 output.
PriceEntry grok3mini() {
  PriceEntry entry;
  entry.pattern = "grok-3-mini*";
  entry.price = testing::perMillion("0.30", "0.075", "0.30", "0.50");
  return entry;
}

TEST(DeepSeekUsage, PromptCacheHitTokensAreTheCacheReads) {
  // No prompt_tokens_details: the cache reads are only in prompt_cache_hit_tokens.
  const auto r = meterBothWays(chatInfo("deepseek-chat", false), kJson,
                               readFixture("openai/deepseek_chat.json"));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage,
            (Usage{.input_tokens = 1600, .cache_read_tokens = 1536, .output_tokens = 300}));
  // 64 x 0.56 + 1536 x 0.07 + 300 x 1.68, per 1M tokens.
  EXPECT_EQ(totalCost(deepseek(), r.usage), "0.00064736");
}

TEST(DeepSeekUsage, StreamedUsageWithBothCacheFieldsCountsTheHitsOnce) {
  const Usage expected{.input_tokens = 1600,
                       .cache_read_tokens = 1536,
                       .output_tokens = 300,
                       .reasoning_tokens = 120};
  const std::string body = readFixture("openai/deepseek_stream_with_usage.sse");
  const auto r = meterBothWays(chatInfo("deepseek-reasoner", true), kSse, body);
  EXPECT_EQ(r.usage, expected);
  EXPECT_EQ(totalCost(deepseek(), r.usage), "0.00064736");
  // When the gateway asked for the usage (hidden-usage mode), the same usage is booked.
  const OpenAiDialect dialect;
  const auto hidden =
      feed(dialect, chatInfo("deepseek-reasoner", true, true), 200, kSse, body, {100, 900}, true);
  EXPECT_EQ(hidden.result.usage, expected);
}

TEST(XaiUsage, ReasoningReportedOutsideCompletionTokensIsAddedToTheOutput) {
  // completion_tokens 1, reasoning_tokens 290, total_tokens 303 = 12 + 1 + 290: the reasoning
  // is not part of completion_tokens. Before, the answer was booked as 1 output token of which
  // 290 reasoning (and the visible answer priced at max(0, 1 - 290)).
  const Usage expected{.input_tokens = 12, .output_tokens = 291, .reasoning_tokens = 290};
  const auto whole =
      meterBothWays(chatInfo("grok-3-mini", false), kJson,
                    readFixture("openai/xai_chat_reasoning_outside_completion.json"));
  EXPECT_EQ(whole.usage, expected);
  EXPECT_EQ(totalCost(grok3mini(), whole.usage), "0.0001491");  // 12 x 0.30 + 291 x 0.50
  const auto streamed =
      meterBothWays(chatInfo("grok-3-mini", true), kSse,
                    readFixture("openai/xai_stream_reasoning_outside_completion.sse"));
  EXPECT_EQ(streamed.usage, expected);
}

TEST(XaiUsage, OpenAiConventionReasoningInsideCompletionIsUnchanged) {
  // total_tokens = prompt + completion: the reasoning is already a part of the completion.
  const std::string body =
      R"({"id":"c","object":"chat.completion","model":"o4-mini","choices":[],"usage":)"
      R"({"prompt_tokens":12,"completion_tokens":291,"total_tokens":303,)"
      R"("completion_tokens_details":{"reasoning_tokens":290}}})";
  const auto r = meterBothWays(chatInfo("o4-mini", false), kJson, body);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 12, .output_tokens = 291, .reasoning_tokens = 290}));
  // No total: nothing to tell the convention by, OpenAI's is assumed.
  const std::string no_total =
      R"({"id":"c","object":"chat.completion","model":"x","choices":[],"usage":)"
      R"({"prompt_tokens":12,"completion_tokens":1,"completion_tokens_details":{"reasoning_tokens":290}}})";
  EXPECT_EQ(meterBothWays(chatInfo("x", false), kJson, no_total).usage.output_tokens, 1);
}

TEST(CompatibleUsage, AbsurdCountsNeverMatchAConvention) {
  const std::string body =
      R"({"id":"c","object":"chat.completion","model":"x","choices":[],"usage":)"
      R"({"prompt_tokens":9223372036854775807,"completion_tokens":1,"total_tokens":2,)"
      R"("prompt_cache_hit_tokens":9223372036854775807,)"
      R"("completion_tokens_details":{"reasoning_tokens":9223372036854775807}}})";
  const auto r = meterBothWays(chatInfo("x", false), kJson, body);
  // Counts beyond any call's bound refuse the whole report (docs/metering.md, "Implausible
  // usage and caps") before any convention is tried: estimated, flagged, never overflowing.
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_NE(r.usage_flags & kUsageCountRefused, 0u);
  EXPECT_LT(r.usage.cache_read_tokens, 1'000'000'000);
  EXPECT_GE(r.usage.output_tokens, 0);
}

}  // namespace
}  // namespace tollgate::meter
