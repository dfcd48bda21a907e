#include "meter/bedrock_dialect.h"

#include <gtest/gtest.h>

#include "dialect_test_support.h"
#include "meter/meter_support.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kEventStream = "application/vnd.amazon.eventstream";
constexpr std::string_view kJson = "application/json";

RequestInfo bedrockInfo(bool stream) {
  RequestInfo info;
  info.model = "anthropic.claude-sonnet-4-20250514-v1:0";
  info.operation = "chat";
  info.stream = stream;
  info.client_asked_usage = true;
  info.estimated_input_tokens = 40;
  return info;
}

// Claude Sonnet 4 on Bedrock: 3.00 input, 0.30 cache read, 3.75 cache write, 15.00 output.
PriceEntry sonnet4() {
  PriceEntry entry;
  entry.pattern = "anthropic.claude-sonnet-4*";
  entry.price = testing::perMillion("3.00", "0.30", "3.75", "15.00");
  return entry;
}

// inputTokens 1200 (uncached) + cacheReadInputTokens 4800 + cacheWriteInputTokens 500; 350 out.
const Usage kFinal{.input_tokens = 6500,
                   .cache_read_tokens = 4800,
                   .cache_write_tokens = 500,
                   .output_tokens = 350};
// 1200 x 3.00 + 4800 x 0.30 + 500 x 3.75 + 350 x 15.00, per 1M tokens.
constexpr std::string_view kFinalCost = "0.012165";

TEST(BedrockPath, SplitsModelIdAndOperation) {
  std::string model;
  BedrockDialect::Api api{};
  ASSERT_TRUE(BedrockDialect::parsePath(
      "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream", model, api));
  EXPECT_EQ(model, "anthropic.claude-3-5-sonnet-20240620-v1:0");
  EXPECT_EQ(api, BedrockDialect::Api::kConverseStream);
  ASSERT_TRUE(BedrockDialect::parsePath("/model/us.amazon.nova-pro-v1:0/converse", model, api));
  EXPECT_EQ(model, "us.amazon.nova-pro-v1:0");
  EXPECT_EQ(api, BedrockDialect::Api::kConverse);
  ASSERT_TRUE(BedrockDialect::parsePath(
      "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic."
      "claude-sonnet-4-20250514-v1%3A0/invoke",
      model, api));
  EXPECT_EQ(model,
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
            "us.anthropic.claude-sonnet-4-20250514-v1:0");
  EXPECT_EQ(api, BedrockDialect::Api::kInvoke);
  ASSERT_TRUE(BedrockDialect::parsePath("/model/m/invoke-with-response-stream", model, api));
  EXPECT_EQ(api, BedrockDialect::Api::kInvokeStream);
  EXPECT_FALSE(BedrockDialect::parsePath("/model/m/generate", model, api));
  EXPECT_FALSE(BedrockDialect::parsePath("/model//converse", model, api));
  EXPECT_FALSE(BedrockDialect::parsePath("/model/a/b/converse", model, api));
  EXPECT_FALSE(BedrockDialect::parsePath("/model/bad%2/converse", model, api));
  EXPECT_FALSE(BedrockDialect::parsePath("/v1/messages", model, api));
}

TEST(BedrockInspectRequest, TakesTheModelFromThePathAndEstimatesMessagesAndSystem) {
  const BedrockDialect dialect;
  RequestInfo info;
  // "Be terse." (9) + "Hello there" (11) = 20 bytes -> 5 tokens + 4 x 2 (system, message).
  const std::string body =
      R"({"messages":[{"role":"user","content":[{"text":"Hello there"}]}],
          "system":[{"text":"Be terse."}],"inferenceConfig":{"maxTokens":512}})";
  ASSERT_FALSE(
      dialect.inspectRequest("/model/amazon.nova-lite-v1%3A0/converse-stream", body, info));
  EXPECT_EQ(info.model, "amazon.nova-lite-v1:0");
  EXPECT_EQ(info.operation, "chat");
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.estimated_input_tokens, 13);
  EXPECT_FALSE(dialect.rewriteRequest(body, info).has_value());
  const auto unknown = dialect.inspectRequest("/model/m/count-tokens", "{}", info);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404);
  const auto bad = dialect.inspectRequest("/model/m/converse", "{", info);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->code, "invalid_json");
}

TEST(BedrockInspectRequest, ReadsTheOutputCapOfConverseAndOfAnAnthropicInvokeBody) {
  const BedrockDialect dialect;
  RequestInfo converse;
  ASSERT_FALSE(dialect.inspectRequest(
      "/model/amazon.nova-lite-v1%3A0/converse",
      R"({"messages":[],"inferenceConfig":{"temperature":0.5,"maxTokens":512}})", converse));
  EXPECT_EQ(converse.max_output_tokens, 512);
  RequestInfo invoke;
  ASSERT_FALSE(dialect.inspectRequest(
      "/model/anthropic.claude-sonnet-4-20250514-v1%3A0/invoke",
      R"({"anthropic_version":"bedrock-2023-05-31","max_tokens":300,"messages":[]})", invoke));
  EXPECT_EQ(invoke.max_output_tokens, 300);
  RequestInfo none;
  ASSERT_FALSE(dialect.inspectRequest("/model/m/converse", R"({"messages":[]})", none));
  EXPECT_FALSE(none.max_output_tokens.has_value());
}

TEST(BedrockConverse, UsageAddsCacheReadsAndWritesToInputTokens) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(dialect, bedrockInfo(false), 200, kJson,
                                   readFixture("bedrock/converse.json"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"end_turn"});
  EXPECT_FALSE(r.upstream_error);
  EXPECT_EQ(totalCost(sonnet4(), r.usage), kFinalCost);
}

TEST(BedrockConverse, InputTokensAlreadyHoldingTheCacheAreNotCountedTwice) {
  const BedrockDialect dialect;
  // totalTokens = inputTokens + outputTokens: this inputTokens includes the cache tokens.
  const auto r = meterAtEverySplit(
      dialect, bedrockInfo(false), 200, kJson,
      R"({"stopReason":"end_turn","usage":{"inputTokens":6500,"outputTokens":350,)"
      R"("totalTokens":6850,"cacheReadInputTokens":4800,"cacheWriteInputTokens":500}})");
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(totalCost(sonnet4(), r.usage), kFinalCost);
}

TEST(BedrockConverse, OneHourCacheWritesComeFromCacheDetails) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(
      dialect, bedrockInfo(false), 200, kJson,
      R"({"usage":{"cacheDetails":[{"inputTokens":300,"ttl":"1h"},{"inputTokens":200,"ttl":"5m"}],)"
      R"("inputTokens":1200,"outputTokens":350,"totalTokens":6850,"cacheReadInputTokens":4800,)"
      R"("cacheWriteInputTokens":500}})");
  Usage expected = kFinal;
  expected.cache_write_1h_tokens = 300;
  EXPECT_EQ(r.usage, expected);
}

TEST(BedrockConverse, ToolUseAndReasoningAnswerIsMetered) {
  const BedrockDialect dialect;
  const std::string body = readFixture("bedrock/converse_tool_use.json");
  const auto r = meterAtEverySplit(dialect, bedrockInfo(false), 200, kJson, body);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 375, .output_tokens = 62}));
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"tool_use"});
  // Cut at its end: the reasoning text (27 bytes) and the tool input's JSON text as received
  // (44 bytes, pretty-printed) are what the client got: 71 bytes -> 18 tokens.
  const auto cut = meterAtEverySplit(dialect, bedrockInfo(false), 200, kJson, body, false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 40, .output_tokens = 18}));
}

TEST(BedrockConverseStream, UsageComesFromTheMetadataEvent) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream,
                                   readFixture("bedrock/converse_stream.bin"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"end_turn"});
  EXPECT_FALSE(r.upstream_error);
  EXPECT_EQ(totalCost(sonnet4(), r.usage), kFinalCost);
}

TEST(BedrockConverseStream, TextDeltasReadFromRawBytesMeterAsSimdjsonReadsThem) {
  const BedrockDialect dialect;
  // Reasoning and tool-input deltas (simdjson reads those), text deltas with escapes and with
  // their members in another order, cut before the metadata and not.
  const std::string stream = readFixture("bedrock/converse_stream_tool_use.bin");
  for (bool complete : {true, false}) {
    const auto fast =
        meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream, stream, complete);
    support::setPreFilterEnabled(false);
    const auto slow =
        meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream, stream, complete);
    support::setPreFilterEnabled(true);
    testing::expectSameResult(fast, slow, complete ? "complete" : "cut");
  }
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream, stream);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 375, .output_tokens = 62}));
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"tool_use"});
}

TEST(BedrockConverseStream, StreamWithoutItsLastMessageCountsEveryKindOfDelta) {
  const BedrockDialect dialect;
  const std::string stream = readFixture("bedrock/converse_stream_tool_use.bin");
  // The metadata message is the last: drop it. Reasoning "The user wants \"the weather\" ☃."
  // (33 bytes), tool input {"sign": "WZPZ"} (16), text "Line\nbreak é" (13): 62 -> 16 tokens.
  size_t last = 0;
  for (size_t at = 0; at + 4 <= stream.size();) {
    last = at;
    const auto* p = reinterpret_cast<const unsigned char*>(stream.data() + at);
    at += static_cast<size_t>(p[0]) << 24 | static_cast<size_t>(p[1]) << 16 |
          static_cast<size_t>(p[2]) << 8 | p[3];
  }
  ASSERT_GT(last, 0u);
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream,
                                   std::string_view(stream).substr(0, last), false);
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 40, .output_tokens = 16}));
}

TEST(BedrockConverseStream, StreamCutBeforeMetadataIsEstimated) {
  const BedrockDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream,
                        readFixture("bedrock/converse_stream_cut_before_metadata.bin"), false);
  // "Bonjour" + " ! Paris est" + " la capitale de la France." = 45 bytes -> 12 tokens.
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 40, .output_tokens = 12}));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(totalCost(sonnet4(), r.usage), "0.0003");  // 40 x 3.00 + 12 x 15.00
}

TEST(BedrockConverseStream, ExceptionMidStreamIsAnUpstreamError) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream,
                                   readFixture("bedrock/converse_stream_exception.bin"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "modelStreamErrorException");
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 40, .output_tokens = 2}));  // "Bonjour"
}

TEST(BedrockConverseStream, MetadataWithABadCrcIsNotBilledFromItsBytes) {
  const BedrockDialect dialect;
  std::string stream = readFixture("bedrock/converse_stream.bin");
  // A usage digit of the metadata event, the last message: its CRC no longer matches.
  const size_t at = stream.rfind("1200");
  ASSERT_NE(at, std::string::npos);
  stream[at] = '9';
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream, stream);
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 40, .output_tokens = 12}));
}

TEST(BedrockConverseStream, ErrorMessageIsAnUpstreamErrorNamedByItsCode) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream,
                                   readFixture("bedrock/converse_stream_error_message.bin"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "InternalFailure");
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
}

TEST(BedrockInvokeModel, AnthropicMessagesAnswerIsReadByTheAnthropicMeter) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(dialect, bedrockInfo(false), 200, kJson,
                                   readFixture("bedrock/invoke_anthropic.json"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_id, "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(r.response_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(totalCost(sonnet4(), r.usage), kFinalCost);
}

TEST(BedrockInvokeModel, ResponseStreamChunksAreAnthropicEvents) {
  const BedrockDialect dialect;
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream,
                                   readFixture("bedrock/invoke_stream_anthropic.bin"));
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_id, "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"end_turn"});
  EXPECT_EQ(totalCost(sonnet4(), r.usage), kFinalCost);
}

TEST(BedrockInvokeModel, ChunkWithABadCrcLosesItsTextNotTheUsage) {
  const BedrockDialect dialect;
  std::string stream = readFixture("bedrock/invoke_stream_anthropic.bin");
  // Corrupt a byte of the base64 of the fourth message (the second content_block_delta): its
  // message CRC no longer matches and it is dropped.
  size_t at = 0;
  for (int k = 0; k < 3; ++k) {
    const auto* p = reinterpret_cast<const unsigned char*>(stream.data() + at);
    at += static_cast<size_t>(p[0]) << 24 | static_cast<size_t>(p[1]) << 16 |
          static_cast<size_t>(p[2]) << 8 | p[3];
  }
  const size_t bytes = stream.find("\"bytes\":\"", at);
  ASSERT_NE(bytes, std::string::npos);
  stream[bytes + 12] = stream[bytes + 12] == 'A' ? 'B' : 'A';
  const auto r = meterAtEverySplit(dialect, bedrockInfo(true), 200, kEventStream, stream);
  EXPECT_EQ(r.usage, kFinal);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

TEST(BedrockErrors, ErrorStatusIsNamedByItsBodyOrItsStatus) {
  const BedrockDialect dialect;
  const auto throttled = meterAtEverySplit(dialect, bedrockInfo(false), 429, kJson,
                                           readFixture("bedrock/error_throttling.json"));
  EXPECT_TRUE(throttled.upstream_error);
  EXPECT_EQ(throttled.error_type, "ThrottlingException");
  EXPECT_EQ(throttled.usage_source, UsageSource::kNone);
  const auto typed = meterAtEverySplit(dialect, bedrockInfo(false), 400, kJson,
                                       readFixture("bedrock/error_validation_typed.json"));
  EXPECT_EQ(typed.error_type, "ValidationException");
}

TEST(BedrockErrors, ErrorBodyAndNamesAreBedrocks) {
  const BedrockDialect dialect;
  EXPECT_EQ(dialect.errorBody(400, "missing_model", "no \"model\""),
            R"({"message":"no \"model\"","code":"missing_model"})");
  EXPECT_EQ(BedrockDialect::exceptionName(429), "ThrottlingException");
  EXPECT_EQ(BedrockDialect::exceptionName(502), "InternalServerException");
  EXPECT_EQ(BedrockDialect::errorTypeName(
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            "ThrottlingException");
  EXPECT_EQ(BedrockDialect::errorTypeName("com.amazon.coral.validate#ValidationException"),
            "ValidationException");
}

}  // namespace
}  // namespace tollgate::meter
