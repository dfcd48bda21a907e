#include "meter/anthropic_dialect.h"

#include <gtest/gtest.h>

#include "dialect_test_support.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kSse = "text/event-stream; charset=utf-8";
constexpr std::string_view kJson = "application/json";

RequestInfo claudeInfo(bool stream) {
  RequestInfo info;
  info.model = "claude-sonnet-4-20250514";
  info.operation = "chat";
  info.stream = stream;
  info.estimated_input_tokens = 40;
  return info;
}

// Sonnet 4 list prices: 3.00 input, 0.30 cache read, 3.75 5-minute write, 6.00 1-hour write,
// 15.00 output; above 200k input tokens 6.00 / 0.60 / 7.50 / 12.00 / 22.50.
PriceEntry sonnet() {
  PriceEntry entry;
  entry.pattern = "claude-sonnet-4*";
  entry.price = testing::perMillion("3.00", "0.30", "3.75", "15.00");
  entry.price.cache_write_1h = *parsePerMillionPrice("6.00");
  PriceTier tier{200'000, testing::perMillion("6.00", "0.60", "7.50", "22.50")};
  tier.price.cache_write_1h = *parsePerMillionPrice("12.00");
  entry.tiers.push_back(tier);
  return entry;
}

// input 2095 (without cache) + 1024 written (24 for 5 minutes, 1000 for 1 hour) + 2048 read.
const Usage kCachedCall{.input_tokens = 5167,
                        .cache_read_tokens = 2048,
                        .cache_write_tokens = 1024,
                        .output_tokens = 503,
                        .reasoning_tokens = 0,
                        .cache_write_1h_tokens = 1000};

// ---- requests -------------------------------------------------------------------------------

TEST(AnthropicInspectRequest, ReadsModelStreamAndEstimatesSystemAndMessages) {
  const AnthropicDialect dialect;
  RequestInfo info;
  // Text: "Be brief." (9) + "Hello" (5) + "Hi!" (3) + "What is 2+2?" (12) = 29 bytes -> 8 tokens,
  // plus 4 per message (3) = 20. The image block is not text.
  const auto err = dialect.inspectRequest("/v1/messages", R"({
      "model": "claude-sonnet-4-20250514", "max_tokens": 1024, "stream": true,
      "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
      "messages": [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": [
          {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
          {"type": "text", "text": "What is 2+2?"}]}]})",
                                          info);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(info.model, "claude-sonnet-4-20250514");
  EXPECT_EQ(info.operation, "chat");
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.estimated_input_tokens, 20);
  std::string body = R"({"model":"m"})";
  EXPECT_FALSE(dialect.rewriteRequest(body, info).has_value());
}

TEST(AnthropicInspectRequest, ReadsMaxTokens) {
  const AnthropicDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(dialect
                   .inspectRequest("/v1/messages",
                                   R"({"model":"claude","max_tokens":300,"messages":[]})", info)
                   .has_value());
  EXPECT_EQ(info.max_output_tokens, 300);
}

TEST(AnthropicInspectRequest, RejectsMissingModelAndBadJsonAndOtherPaths) {
  const AnthropicDialect dialect;
  RequestInfo info;
  auto err = dialect.inspectRequest("/v1/messages", R"({"messages":[]})", info);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "missing_model");
  err = dialect.inspectRequest("/v1/messages", R"({"model":)", info);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "invalid_json");
  err = dialect.inspectRequest("/v1/complete", R"({"model":"m"})", info);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->status, 404);
}

TEST(AnthropicErrorBody, HasAnthropicsShapeWithTheGatewayCode) {
  const AnthropicDialect dialect;
  EXPECT_EQ(
      dialect.errorBody(404, "model_not_found", "no upstream serves model 'x'"),
      R"({"type":"error","error":{"type":"not_found_error","message":"no upstream serves model 'x'","code":"model_not_found"}})");
  EXPECT_EQ(
      dialect.errorBody(504, "upstream_timeout", "late"),
      R"({"type":"error","error":{"type":"timeout_error","message":"late","code":"upstream_timeout"}})");
}

// ---- the four ways a call ends ----------------------------------------------------------------

TEST(AnthropicMeter, NonStreamingMessageCountsCacheTokensOnceAndPricesEachPart) {
  const AnthropicDialect dialect;
  const auto r = meterAtEverySplit(dialect, claudeInfo(false), 200, kJson,
                                   readFixture("anthropic/message.json"));
  EXPECT_EQ(r.usage, kCachedCall);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(r.response_id, "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"end_turn"});
  EXPECT_FALSE(r.upstream_error);
  // 2095 x 3.00 + 2048 x 0.30 + 24 x 3.75 + 1000 x 6.00 + 503 x 15.00, per 1M tokens.
  const CostBreakdown cost = computeCost(sonnet(), r.usage);
  EXPECT_EQ(cost.input.toDecimalString(), "0.006285");
  EXPECT_EQ(cost.cache_read.toDecimalString(), "0.0006144");
  EXPECT_EQ(cost.cache_write.toDecimalString(), "0.00609");
  EXPECT_EQ(cost.output.toDecimalString(), "0.007545");
  EXPECT_EQ(cost.total.toDecimalString(), "0.0205344");
}

TEST(AnthropicMeter, StreamTakesInputFromMessageStartAndOutputFromMessageDelta) {
  const AnthropicDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, claudeInfo(true), 200, kSse, readFixture("anthropic/stream.sse"));
  EXPECT_EQ(r.usage, kCachedCall);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_id, "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"end_turn"});
  EXPECT_EQ(totalCost(sonnet(), r.usage), "0.0205344");
}

TEST(AnthropicMeter, StreamCutBeforeMessageDeltaKeepsProviderInputAndEstimatesOutput) {
  const AnthropicDialect dialect;
  const auto r = meterAtEverySplit(dialect, claudeInfo(true), 200, kSse,
                                   readFixture("anthropic/stream_cut_before_usage.sse"), false);
  // "Hello" + "! How can I help you today?" = 32 bytes relayed -> 8 output tokens.
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 5167,
                            .cache_read_tokens = 2048,
                            .cache_write_tokens = 1024,
                            .output_tokens = 8,
                            .reasoning_tokens = 0,
                            .cache_write_1h_tokens = 1000}));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(totalCost(sonnet(), r.usage), "0.0131094");
}

TEST(AnthropicMeter, ErrorEventMidStreamIsAnUpstreamErrorWithTheUsageKnownSoFar) {
  const AnthropicDialect dialect;
  const auto r = meterAtEverySplit(dialect, claudeInfo(true), 200, kSse,
                                   readFixture("anthropic/stream_error_midstream.sse"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "overloaded_error");
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage.input_tokens, 5167);
  EXPECT_EQ(r.usage.output_tokens, 2);  // "Hello": 5 bytes
  EXPECT_EQ(totalCost(sonnet(), r.usage), "0.0130194");
}

TEST(AnthropicMeter, ErrorStatusBodyNamesItsTypeAndBooksNoUsage) {
  const AnthropicDialect dialect;
  const auto r = meterAtEverySplit(dialect, claudeInfo(true), 529, kJson,
                                   readFixture("anthropic/error_529.json"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "overloaded_error");
  EXPECT_EQ(r.usage_source, UsageSource::kNone);
  EXPECT_EQ(r.usage, Usage{});
}

TEST(AnthropicMeter, LongContextCallIsPricedAtTheTierAboveTwoHundredThousandInputTokens) {
  // 150k uncached + 60k cache reads = 210k input: the whole call at the higher tier.
  const Usage usage{.input_tokens = 210'000, .cache_read_tokens = 60'000, .output_tokens = 1'000};
  const CostBreakdown cost = computeCost(sonnet(), usage);
  EXPECT_EQ(cost.input.toDecimalString(), "0.9");         // 150,000 x 6.00
  EXPECT_EQ(cost.cache_read.toDecimalString(), "0.036");  // 60,000 x 0.60
  EXPECT_EQ(cost.output.toDecimalString(), "0.0225");     // 1,000 x 22.50
  EXPECT_EQ(cost.total.toDecimalString(), "0.9585");
  const Usage at_threshold{.input_tokens = 200'000, .output_tokens = 1'000};
  EXPECT_EQ(totalCost(sonnet(), at_threshold), "0.615");  // 200,000 x 3.00 + 1,000 x 15.00
}

// ---- regressions named after failures seen in other gateways ---------------------------------

TEST(AnthropicRegression, CacheTokensAreNotCountedTwice) {
  const AnthropicDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, claudeInfo(true), 200, kSse, readFixture("anthropic/stream.sse"));
  // input_tokens (2095) excludes the cache: adding the cache parts once gives 5167, never
  // 5167 + 3072.
  EXPECT_EQ(r.usage.input_tokens, 5167);
  EXPECT_EQ(r.usage.cache_read_tokens + r.usage.cache_write_tokens, 3072);
}

TEST(AnthropicRegression, CacheTokensAreNotPricedAsPlainInput) {
  const Usage usage = kCachedCall;
  const CostBreakdown cost = computeCost(sonnet(), usage);
  // Only the 2095 uncached tokens at 3.00; reads at 0.30, writes at 3.75 / 6.00.
  EXPECT_EQ(cost.input.pico(), int64_t{2095} * 3'000'000);
  EXPECT_EQ(cost.cache_read.pico(), int64_t{2048} * 300'000);
  EXPECT_EQ(cost.cache_write.pico(), int64_t{24} * 3'750'000 + int64_t{1000} * 6'000'000);
}

TEST(AnthropicRegression, MessageDeltaUsageIsNotIgnored) {
  const AnthropicDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, claudeInfo(true), 200, kSse, readFixture("anthropic/stream.sse"));
  EXPECT_EQ(r.usage.output_tokens, 503);  // not message_start's 1
}

TEST(AnthropicRegression, CumulativeMessageDeltasAreNotAddedUpAndTheirInputSupersedes) {
  const AnthropicDialect dialect;
  const auto r = meterAtEverySplit(dialect, claudeInfo(true), 200, kSse,
                                   readFixture("anthropic/stream_server_tools.sse"));
  // Two message_delta events (120 then 510 output): the last wins, not 630; its input (2679)
  // and cache read (1500) replace message_start's 410. The last delta's server_tool_use names
  // one web search request, a line item of its own.
  Usage expected{.input_tokens = 2679 + 1500,
                 .cache_read_tokens = 1500,
                 .cache_write_tokens = 0,
                 .output_tokens = 510};
  expected[Unit::kWebSearchRequests] = 1;
  EXPECT_EQ(r.usage, expected);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

TEST(AnthropicMeter, ServiceTierInTheUsageSelectsThePriceVariant) {
  const AnthropicDialect dialect;
  const std::string body =
      R"({"id":"msg_1","type":"message","model":"claude-sonnet-4","content":[],"usage":{"input_tokens":10,"output_tokens":2,"service_tier":"priority"}})";
  const auto r = meterAtEverySplit(dialect, claudeInfo(false), 200, kJson, body);
  EXPECT_EQ(r.service_tier, "priority");
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 10, .output_tokens = 2}));
}

}  // namespace
}  // namespace tollgate::meter
