#include "meter/openai_responses.h"

#include <gtest/gtest.h>

#include "dialect_test_support.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kSse = "text/event-stream; charset=utf-8";
constexpr std::string_view kJson = "application/json";

RequestInfo responsesInfo(bool stream) {
  RequestInfo info;
  info.model = "o4-mini";
  info.operation = "responses";
  info.stream = stream;
  info.estimated_input_tokens = 25;
  return info;
}

// o4-mini: 1.10 input, 0.275 cached, 4.40 output (reasoning too).
PriceEntry o4mini() {
  PriceEntry entry;
  entry.pattern = "o4-mini*";
  entry.price = testing::perMillion("1.10", "0.275", "1.10", "4.40");
  return entry;
}

const Usage kFinal{.input_tokens = 328,
                   .cache_read_tokens = 256,
                   .cache_write_tokens = 0,
                   .output_tokens = 1035,
                   .reasoning_tokens = 768};

TEST(ResponsesInspectRequest, IsServedByTheOpenAiDialectAndNeverRewritten) {
  const OpenAiDialect dialect;
  RequestInfo info;
  // "Be terse." (9) + "Hello there" (11) = 20 bytes -> 5 tokens + 4 x 2 (instructions, item).
  const std::string body =
      R"({"model":"o4-mini","stream":true,"instructions":"Be terse.","service_tier":"flex",
          "input":[{"role":"user","content":[{"type":"input_text","text":"Hello there"}]}]})";
  ASSERT_FALSE(dialect.inspectRequest("/v1/responses", body, info));
  EXPECT_EQ(info.operation, "responses");
  EXPECT_EQ(info.model, "o4-mini");
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.service_tier, "flex");
  EXPECT_EQ(info.estimated_input_tokens, 13);
  EXPECT_FALSE(dialect.rewriteRequest(body, info).has_value());
  ASSERT_FALSE(dialect.inspectRequest("/v1/responses", R"({"model":"o3","input":"Hi"})", info));
  EXPECT_EQ(info.estimated_input_tokens, 5);  // "Hi": 1 token + 4
}

TEST(ResponsesMeter, NonStreamingResponseSplitsCachedInputAndReasoningOutput) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(false), 200, kJson,
                                   readFixture("responses/response.json"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_id, "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41");
  EXPECT_EQ(r.response_model, "o4-mini-2025-04-16");
  // 72 x 1.10 + 256 x 0.275 + 1035 x 4.40, per 1M tokens.
  const CostBreakdown cost = computeCost(o4mini(), r.usage);
  EXPECT_EQ(cost.input.toDecimalString(), "0.0000792");
  EXPECT_EQ(cost.cache_read.toDecimalString(), "0.0000704");
  EXPECT_EQ(cost.output.toDecimalString(), "0.004554");
  EXPECT_EQ(cost.total.toDecimalString(), "0.0047036");
}

TEST(ResponsesMeter, StreamTakesTheUsageOfResponseCompleted) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 200, kSse,
                                   readFixture("responses/stream.sse"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"completed"});
  EXPECT_FALSE(r.upstream_error);
  EXPECT_EQ(totalCost(o4mini(), r.usage), "0.0047036");
}

TEST(ResponsesMeter, IncompleteResponseIsNotAnErrorAndKeepsItsUsage) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 200, kSse,
                                   readFixture("responses/stream_incomplete.sse"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_FALSE(r.upstream_error);
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"incomplete"});
}

TEST(ResponsesMeter, StreamCutBeforeResponseCompletedIsEstimated) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 200, kSse,
                                   readFixture("responses/stream_cut_before_usage.sse"), false);
  // Deltas "Hi" + " there!" + " How can I help?" = 25 bytes -> 7 tokens.
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 25, .output_tokens = 7}));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(totalCost(o4mini(), r.usage), "0.0000583");  // 25 x 1.10 + 7 x 4.40
}

TEST(ResponsesMeter, ErrorEventMidStreamIsAnUpstreamError) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 200, kSse,
                                   readFixture("responses/stream_error_midstream.sse"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "server_error");
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 25, .output_tokens = 1}));  // "Hi"
  EXPECT_EQ(totalCost(o4mini(), r.usage), "0.0000319");
}

TEST(ResponsesMeter, FailedResponseIsAnUpstreamErrorWithItsReportedUsage) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 200, kSse,
                                   readFixture("responses/stream_failed.sse"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "server_error");
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 328, .output_tokens = 5}));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

TEST(ResponsesMeter, ErrorStatusNamesTheCode) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 429, kJson,
                                   readFixture("responses/error_429.json"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "rate_limit_exceeded");
  EXPECT_EQ(r.usage_source, UsageSource::kNone);
}

TEST(ResponsesRegression, ResponsesApiUsageIsNotLost) {
  const OpenAiDialect dialect;
  // The usage is null in response.created and present only in the terminal event: a meter that
  // stops at the first "usage" member, or waits for [DONE], books zero.
  const auto r = meterAtEverySplit(dialect, responsesInfo(true), 200, kSse,
                                   readFixture("responses/stream.sse"));
  EXPECT_EQ(r.usage.input_tokens, 328);
  EXPECT_EQ(r.usage.output_tokens, 1035);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

}  // namespace
}  // namespace tollgate::meter
