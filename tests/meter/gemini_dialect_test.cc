#include "meter/gemini_dialect.h"

#include <gtest/gtest.h>

#include "dialect_test_support.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kSse = "text/event-stream";
constexpr std::string_view kJson = "application/json; charset=UTF-8";

RequestInfo geminiInfo(bool stream) {
  RequestInfo info;
  info.model = "gemini-2.5-pro";
  info.operation = "generate_content";
  info.stream = stream;
  info.estimated_input_tokens = 900;
  return info;
}

// gemini-2.5-pro: 1.25 input, 0.125 cached, 10.00 output (thinking too); above 200k prompt
// tokens 2.50 / 0.25 / 15.00.
PriceEntry pro() {
  PriceEntry entry;
  entry.pattern = "gemini-2.5-pro*";
  entry.price = testing::perMillion("1.25", "0.125", "1.25", "10.00");
  entry.tiers.push_back({200'000, testing::perMillion("2.50", "0.25", "2.50", "15.00")});
  return entry;
}

// promptTokenCount 1000 of which 600 cached; 200 candidates + 300 thoughts.
const Usage kFinal{.input_tokens = 1000,
                   .cache_read_tokens = 600,
                   .cache_write_tokens = 0,
                   .output_tokens = 500,
                   .reasoning_tokens = 300};

TEST(GeminiPath, ModelAndStreamComeFromThePath) {
  std::string_view model;
  bool stream = true;
  ASSERT_TRUE(
      GeminiDialect::parsePath("/v1beta/models/gemini-2.5-pro:generateContent", model, stream));
  EXPECT_EQ(model, "gemini-2.5-pro");
  EXPECT_FALSE(stream);
  ASSERT_TRUE(GeminiDialect::parsePath("/v1/models/gemini-2.0-flash-001:streamGenerateContent",
                                       model, stream));
  EXPECT_EQ(model, "gemini-2.0-flash-001");
  EXPECT_TRUE(stream);
  EXPECT_FALSE(
      GeminiDialect::parsePath("/v1beta/models/gemini-2.5-pro:countTokens", model, stream));
  EXPECT_FALSE(GeminiDialect::parsePath("/v1beta/models/:generateContent", model, stream));
  EXPECT_FALSE(GeminiDialect::parsePath("/v1beta/tunedModels/x:generateContent", model, stream));
}

TEST(GeminiInspectRequest, EstimatesContentsAndSystemInstruction) {
  const GeminiDialect dialect;
  RequestInfo info;
  // "You are terse." (14) + "Why is the sky blue?" (20) = 34 bytes -> 9 tokens + 4 x 1 content.
  const auto err =
      dialect.inspectRequest("/v1beta/models/gemini-2.5-flash:streamGenerateContent",
                             R"({"systemInstruction":{"parts":[{"text":"You are terse."}]},
          "contents":[{"role":"user","parts":[{"text":"Why is the sky blue?"},{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]}]})",
                             info);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(info.model, "gemini-2.5-flash");
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.operation, "generate_content");
  EXPECT_EQ(info.estimated_input_tokens, 13);
  auto bad = dialect.inspectRequest("/v1beta/models/m:generateContent", "[1]", info);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->code, "invalid_json");
}

TEST(GeminiInspectRequest, ReadsTheOutputCapFromGenerationConfigInEitherSpelling) {
  const GeminiDialect dialect;
  const std::string_view path = "/v1beta/models/gemini-2.5-pro:generateContent";
  RequestInfo camel;
  ASSERT_FALSE(dialect.inspectRequest(
      path,
      R"({"contents":[],"generationConfig":{"temperature":0.2,"maxOutputTokens":512,"topK":3}})",
      camel));
  EXPECT_EQ(camel.max_output_tokens, 512);
  RequestInfo snake;
  ASSERT_FALSE(dialect.inspectRequest(
      path, R"({"generation_config":{"max_output_tokens":64},"contents":[]})", snake));
  EXPECT_EQ(snake.max_output_tokens, 64);
  // Without one, or with one that is not a count, the cap is unknown (the default applies).
  for (std::string_view body : {R"({"contents":[]})", R"({"generationConfig":{"temperature":1}})",
                                R"({"generationConfig":{"maxOutputTokens":"9"}})",
                                R"({"generationConfig":{"maxOutputTokens":-1}})",
                                R"({"maxOutputTokens":9,"generationConfig":null})"}) {
    RequestInfo info;
    ASSERT_FALSE(dialect.inspectRequest(path, body, info)) << body;
    EXPECT_FALSE(info.max_output_tokens.has_value()) << body;
  }
}

TEST(GeminiErrorBody, HasGooglesShapeWithTheGatewayCodeAsReason) {
  const GeminiDialect dialect;
  EXPECT_EQ(
      dialect.errorBody(404, "model_not_found", "no upstream serves model 'x'"),
      R"({"error":{"code":404,"message":"no upstream serves model 'x'","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"model_not_found","domain":"tollgate"}]}})");
}

TEST(GeminiMeter, NonStreamingCountsCachedTokensAsPartOfThePromptAndThoughtsAsOutput) {
  const GeminiDialect dialect;
  const auto r = meterAtEverySplit(dialect, geminiInfo(false), 200, kJson,
                                   readFixture("gemini/generate.json"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_model, "gemini-2.5-pro");
  EXPECT_EQ(r.response_id, "mEyZaKfXFqSG7dcPhOr8wQg");
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"STOP"});
  // 400 x 1.25 + 600 x 0.125 + 500 x 10.00, per 1M tokens.
  const CostBreakdown cost = computeCost(pro(), r.usage);
  EXPECT_EQ(cost.input.toDecimalString(), "0.0005");
  EXPECT_EQ(cost.cache_read.toDecimalString(), "0.000075");
  EXPECT_EQ(cost.output.toDecimalString(), "0.005");
  EXPECT_EQ(cost.total.toDecimalString(), "0.005575");
}

TEST(GeminiMeter, SseStreamWithCrlfTakesTheLastCumulativeUsage) {
  const GeminiDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, geminiInfo(true), 200, kSse, readFixture("gemini/stream.sse"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(totalCost(pro(), r.usage), "0.005575");
}

TEST(GeminiMeter, JsonArrayStreamWithoutAltSseIsReadElementByElement) {
  const GeminiDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, geminiInfo(true), 200, kJson, readFixture("gemini/stream.json"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"STOP"});
  EXPECT_EQ(totalCost(pro(), r.usage), "0.005575");
}

TEST(GeminiMeter, StreamCutBeforeTheFinalChunkIsEstimatedFromTheLastUsageSeen) {
  const GeminiDialect dialect;
  for (const char* fixture :
       {"gemini/stream_cut_before_usage.sse", "gemini/stream_cut_before_usage.json"}) {
    const std::string_view type = std::string_view(fixture).ends_with(".sse") ? kSse : kJson;
    const auto r =
        meterAtEverySplit(dialect, geminiInfo(true), 200, type, readFixture(fixture), false);
    // Prompt from the provider; output: its 120 candidates + 300 thoughts so far, more than the
    // 61 bytes (16 tokens) of text relayed.
    EXPECT_EQ(r.usage, (Usage{.input_tokens = 1000,
                              .cache_read_tokens = 600,
                              .output_tokens = 420,
                              .reasoning_tokens = 300}))
        << fixture;
    EXPECT_EQ(r.usage_source, UsageSource::kEstimated) << fixture;
    EXPECT_EQ(totalCost(pro(), r.usage), "0.004775") << fixture;
  }
}

TEST(GeminiMeter, ErrorMidStreamIsAnUpstreamErrorWithTheUsageKnownSoFar) {
  const GeminiDialect dialect;
  for (const char* fixture :
       {"gemini/stream_error_midstream.sse", "gemini/stream_error_midstream.json"}) {
    const std::string_view type = std::string_view(fixture).ends_with(".sse") ? kSse : kJson;
    const auto r = meterAtEverySplit(dialect, geminiInfo(true), 200, type, readFixture(fixture));
    EXPECT_TRUE(r.upstream_error) << fixture;
    EXPECT_EQ(r.error_type, "INTERNAL") << fixture;
    EXPECT_EQ(r.usage_source, UsageSource::kEstimated) << fixture;
    EXPECT_EQ(r.usage, (Usage{.input_tokens = 1000,
                              .cache_read_tokens = 600,
                              .output_tokens = 303,
                              .reasoning_tokens = 300}))
        << fixture;
    EXPECT_EQ(totalCost(pro(), r.usage), "0.003605") << fixture;
  }
}

TEST(GeminiMeter, ErrorStatusNamesTheStatusAndBooksNoUsage) {
  const GeminiDialect dialect;
  const auto r = meterAtEverySplit(dialect, geminiInfo(false), 429, kJson,
                                   readFixture("gemini/error_429.json"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(r.usage_source, UsageSource::kNone);
  const auto wrapped = meterAtEverySplit(
      dialect, geminiInfo(true), 503, kJson,
      R"([{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}])");
  EXPECT_EQ(wrapped.error_type, "UNAVAILABLE");
}

TEST(GeminiMeter, ToolUsePromptTokensAreInputOnTopOfThePrompt) {
  const GeminiDialect dialect;
  const auto r = meterAtEverySplit(
      dialect, geminiInfo(false), 200, kJson,
      R"({"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":5,"toolUsePromptTokenCount":40,"totalTokenCount":145}})");
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 140, .output_tokens = 5}));
}

TEST(GeminiRegression, CachedTokensAreNotCountedTwice) {
  const GeminiDialect dialect;
  const auto r = meterAtEverySplit(dialect, geminiInfo(false), 200, kJson,
                                   readFixture("gemini/generate.json"));
  // promptTokenCount (1000) already includes the 600 cached: not 1600, and only 400 at the
  // full input price.
  EXPECT_EQ(r.usage.input_tokens, 1000);
  EXPECT_EQ(computeCost(pro(), r.usage).input.pico(), int64_t{400} * 1'250'000);
}

TEST(GeminiMeter, LongPromptIsPricedAtTheHigherTier) {
  const Usage usage{.input_tokens = 250'000, .output_tokens = 1'000, .reasoning_tokens = 0};
  EXPECT_EQ(totalCost(pro(), usage), "0.64");  // 250,000 x 2.50 + 1,000 x 15.00
}

}  // namespace
}  // namespace tollgate::meter
