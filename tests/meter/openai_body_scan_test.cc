#include "meter/openai_body_scan.h"

#include <gtest/gtest.h>

#include <string>

#include "dialect_test_support.h"

namespace tollgate::meter {
namespace {

using testing::readFixture;

// What loadtest/mock_upstream answers to a chat completion (the scan's everyday input).
const std::string kMockAnswer =
    R"({"id":"chatcmpl-mock-0","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"the fox ran far "},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_mock"})";

TEST(OpenAiBodyScan, ReadsACompletionWithoutSimdjson) {
  OpenAiBodyScan scan;
  ASSERT_TRUE(scanOpenAiBody(kMockAnswer, true, true, scan));
  EXPECT_EQ(scan.id, "chatcmpl-mock-0");
  EXPECT_EQ(scan.model, "gpt-4o-mini");
  EXPECT_EQ(scan.content_bytes, 16);
  ASSERT_EQ(scan.finish_count, 1U);
  EXPECT_EQ(scan.finish_reasons[0], "stop");
  EXPECT_TRUE(scan.tier_seen);
  EXPECT_EQ(scan.tier, "default");
  EXPECT_TRUE(scan.usage_seen);
  EXPECT_EQ(scan.usage, (Usage{.input_tokens = 1500, .output_tokens = 400}));
}

TEST(OpenAiBodyScan, ReadsThePrettyPrintedFixtureWithEscapedText) {
  OpenAiBodyScan scan;
  ASSERT_TRUE(scanOpenAiBody(readFixture("openai/chat_completion.json"), true, true, scan));
  EXPECT_EQ(scan.usage,
            (Usage{.input_tokens = 1117, .cache_read_tokens = 1024, .output_tokens = 46}));
  EXPECT_EQ(scan.content_bytes, 75);

  // Escapes in the text are counted as the bytes they stand for: "é" is two.
  OpenAiBodyScan escaped;
  ASSERT_TRUE(scanOpenAiBody(R"({"choices":[{"message":{"content":"caf\u00e9\n"}}]})", true, true,
                             escaped));
  EXPECT_EQ(escaped.content_bytes, 6);
}

TEST(OpenAiBodyScan, KeepsAnIdOrModelOnlyWhenAskedFor) {
  OpenAiBodyScan scan;
  ASSERT_TRUE(scanOpenAiBody(kMockAnswer, false, false, scan));
  EXPECT_TRUE(scan.id.empty());
  EXPECT_TRUE(scan.model.empty());
}

TEST(OpenAiBodyScan, LeavesToSimdjsonWhatItDoesNotReadAlike) {
  for (const char* body : {
           R"({"error":{"type":"server_error"}})",
           R"({"choices":[],"timings":{"prompt_n":1}})",
           R"({"id":"chat\u0063mpl","choices":[]})",
           R"({"choices":[{"finish_reason":"st\u006fp"}]})",
           R"({"choices":[1]})",
           R"({"choices":[]} x)",
           R"({"choices":[{"message":{"content":"\xFF"}}]})",
           R"({"choices":[{"message":{"content":"\ud800"}}]})",
           R"({"choices":[])",
           R"([])",
       }) {
    OpenAiBodyScan scan;
    EXPECT_FALSE(scanOpenAiBody(body, true, true, scan)) << body;
  }
  std::string nine = R"({"choices":[)";
  for (int i = 0; i < 9; ++i) nine += std::string(i ? "," : "") + R"({"finish_reason":"stop"})";
  OpenAiBodyScan scan;
  EXPECT_FALSE(scanOpenAiBody(nine + "]}", true, true, scan));
}

TEST(OpenAiBodyScan, ReadsEveryMalformedCountItselfAsMalformed) {
  for (const char* count : {"1.5", "1e400", "-5", "null", "\"12\"", "false", "[]",
                            "18446744073709551616", "9223372036854775807", "1000000001"}) {
    const std::string body = std::string(R"({"usage":{"prompt_tokens":)") + count + "}}";
    OpenAiBodyScan scan;
    ASSERT_TRUE(scanOpenAiBody(body, true, true, scan)) << body;
    EXPECT_EQ(scan.usage.input_tokens, kMalformedCount) << body;
  }
}

}  // namespace
}  // namespace tollgate::meter
