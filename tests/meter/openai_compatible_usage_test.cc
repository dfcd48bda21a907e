// OpenAI-compatible providers whose usage objects follow another convention than OpenAI's
// (docs/metering.md, "OpenAI-compatible conventions"), streamed and not, split at every byte,
// read from raw bytes and by simdjson alike.
#include <gtest/gtest.h>

#include <tuple>

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

// Flat test prices (not catalog entries) for the providers below: USD per 1M tokens.
PriceEntry flat(std::string input, std::string cache_read, std::string output) {
  PriceEntry entry;
  entry.pattern = "*";
  entry.price = testing::perMillion(input, cache_read, input, output);
  return entry;
}

TEST(GroqUsage, ReasoningInsideCompletionAndTimesThatAreNotUnits) {
  // qwen3-32b: total 320 = 20 + 300, so the 200 reasoning tokens are a part of the 300; the
  // queue/prompt/completion/total times are not billed units.
  const auto r =
      meterBothWays(chatInfo("qwen/qwen3-32b", false), kJson, readFixture("openai/groq_chat.json"));
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 20, .output_tokens = 300, .reasoning_tokens = 200}));
  EXPECT_EQ(totalCost(flat("0.29", "0.29", "0.59"), r.usage), "0.0001828");
}

TEST(GroqUsage, StreamedUsageInXGroqIsRead) {
  // Groq's stream reports its usage inside the last chunk's x_groq object.
  const auto r = meterBothWays(chatInfo("llama-3.3-70b-versatile", true), kSse,
                               readFixture("openai/groq_stream_x_groq_usage.sse"));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 18, .output_tokens = 556}));
  EXPECT_EQ(totalCost(flat("0.59", "0.59", "0.79"), r.usage), "0.00044986");
}

TEST(OpenRouterUsage, ItsOwnCostIsRecordedBesideOursWholeAndStreamed) {
  for (const auto& [fixture, stream, type] :
       {std::tuple{"openai/openrouter_chat.json", false, kJson},
        std::tuple{"openai/openrouter_stream.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r =
        meterBothWays(chatInfo("anthropic/claude-sonnet-4.5", stream), type, readFixture(fixture));
    EXPECT_EQ(r.usage, (Usage{.input_tokens = 1200,
                              .cache_read_tokens = 1000,
                              .output_tokens = 300,
                              .reasoning_tokens = 120}));
    ASSERT_TRUE(r.provider_cost.has_value());
    EXPECT_EQ(r.provider_cost->toDecimalString(), "0.0051");
    // Ours: 200 x 3 + 1,000 x 0.30 + 300 x 15 per 1M.
    EXPECT_EQ(totalCost(flat("3.00", "0.30", "15.00"), r.usage), "0.0054");
  }
}

TEST(MistralUsage, PlainCountsWholeAndAudioSecondsStreamedAreSurfaced) {
  const auto whole = meterBothWays(chatInfo("mistral-small-latest", false), kJson,
                                   readFixture("openai/mistral_chat.json"));
  // prompt_audio_seconds null: nothing unknown.
  EXPECT_EQ(whole.usage, (Usage{.input_tokens = 12, .output_tokens = 180}));
  EXPECT_EQ(totalCost(flat("0.10", "0.10", "0.30"), whole.usage), "0.0000552");
  // Voxtral bills audio by the second: an unknown unit, counted and flagged, never dropped.
  const auto audio = meterBothWays(chatInfo("voxtral-small-latest", true), kSse,
                                   readFixture("openai/mistral_stream.sse"));
  EXPECT_EQ(audio.usage, (Usage{.input_tokens = 410, .output_tokens = 22, .unknown_units = 1}));
}

TEST(TogetherUsage, UsageInTheLastContentChunkWholeAndStreamed) {
  for (const auto& [fixture, stream, type] :
       {std::tuple{"openai/together_chat.json", false, kJson},
        std::tuple{"openai/together_stream.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r = meterBothWays(chatInfo("meta-llama/Llama-3.3-70B-Instruct-Turbo", stream), type,
                                 readFixture(fixture));
    EXPECT_EQ(r.usage_source, UsageSource::kProvider);
    EXPECT_EQ(r.usage, (Usage{.input_tokens = 48, .output_tokens = 3}));
    EXPECT_EQ(totalCost(flat("0.88", "0.88", "0.88"), r.usage), "0.00004488");
  }
}

TEST(FireworksUsage, CachedPromptTokensWholeAndStreamed) {
  for (const auto& [fixture, stream, type] :
       {std::tuple{"openai/fireworks_chat.json", false, kJson},
        std::tuple{"openai/fireworks_stream.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r = meterBothWays(chatInfo("accounts/fireworks/models/deepseek-v3p1", stream), type,
                                 readFixture(fixture));
    EXPECT_EQ(r.usage,
              (Usage{.input_tokens = 1500, .cache_read_tokens = 1024, .output_tokens = 200}));
    // 476 x 0.56 + 1,024 x 0.28 + 200 x 1.68 per 1M.
    EXPECT_EQ(totalCost(flat("0.56", "0.28", "1.68"), r.usage), "0.00088928");
  }
}

}  // namespace
}  // namespace tollgate::meter
