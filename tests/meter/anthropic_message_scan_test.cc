#include "meter/anthropic_message_scan.h"

#include <gtest/gtest.h>

#include <string>

#include "dialect_test_support.h"

namespace tollgate::meter {
namespace {

using testing::readFixture;

// What loadtest/mock_upstream answers to a message (the scan's everyday input).
const std::string kMockAnswer =
    R"({"id":"msg_mock_0","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"the fox ran far "}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1500,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":400,"service_tier":"standard"}})";

TEST(AnthropicMessageScan, ReadsAMessageWithoutSimdjson) {
  AnthropicMessageScan scan;
  ASSERT_TRUE(scanAnthropicMessage(kMockAnswer, true, true, scan));
  EXPECT_EQ(scan.id, "msg_mock_0");
  EXPECT_EQ(scan.model, "claude-sonnet-4-20250514");
  EXPECT_EQ(scan.content_bytes, 16);
  ASSERT_EQ(scan.stop_count, 1U);
  EXPECT_EQ(scan.stop_reasons[0], "end_turn");
  EXPECT_TRUE(scan.has_usage);
  EXPECT_EQ(scan.input, 1500);
  EXPECT_EQ(scan.output, 400);
  EXPECT_EQ(scan.cache_creation, 0);
  EXPECT_EQ(scan.cache_read, 0);
  EXPECT_EQ(scan.cache_1h, 0);
  EXPECT_TRUE(scan.tier_seen);
  EXPECT_EQ(scan.tier, "standard");
}

TEST(AnthropicMessageScan, ReadsThePrettyPrintedFixture) {
  AnthropicMessageScan scan;
  ASSERT_TRUE(scanAnthropicMessage(readFixture("anthropic/message.json"), true, true, scan));
  EXPECT_EQ(scan.input, 2095);
  EXPECT_EQ(scan.cache_creation, 1024);
  EXPECT_EQ(scan.cache_read, 2048);
  EXPECT_EQ(scan.cache_1h, 1000);
  EXPECT_EQ(scan.output, 503);
  EXPECT_EQ(scan.content_bytes, 32);
}

TEST(AnthropicMessageScan, UnreportedCountsStayUnknownAndMalformedOnesReadAsMalformed) {
  AnthropicMessageScan scan;
  ASSERT_TRUE(
      scanAnthropicMessage(R"({"type":"message","usage":{"output_tokens":-4,"input_tokens":null}})",
                           false, false, scan));
  EXPECT_EQ(scan.output, kMalformedCount);
  EXPECT_EQ(scan.input, kMalformedCount);
  EXPECT_EQ(scan.cache_read, -1);
  EXPECT_EQ(scan.cache_creation, -1);
  EXPECT_EQ(scan.cache_1h, -1);
}

TEST(AnthropicMessageScan, LeavesToSimdjsonWhatItDoesNotReadAlike) {
  for (const char* body : {
           R"({"type":"message_start","message":{"usage":{"input_tokens":1}}})",
           R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}})",
           R"({"type":"error","error":{"type":"overloaded_error"}})",
           R"({"content":[]})",
           R"({"type":"mess\u0061ge"})",
           R"({"type":"message","content":[{"type":"tool_use","input":{}}]})",
           R"({"type":"message","usage":null})",
           R"({"type":"message","stop_reason":"end\u005fturn"})",
           R"({"type":"message"},)",
           R"({"type":"message","content":[{"text":"\xC3"}]})",
       }) {
    AnthropicMessageScan scan;
    EXPECT_FALSE(scanAnthropicMessage(body, true, true, scan)) << body;
  }
}

TEST(AnthropicMessageScan, ReadsEveryMalformedCountItselfAsMalformed) {
  for (const char* count : {"1.0", "1.5", "1e400", "-5", "null", "\"12\"", "true", "[1]", "{}",
                            "18446744073709551616", "9223372036854775807", "1000000001"}) {
    const std::string body =
        std::string(R"({"type":"message","usage":{"output_tokens":)") + count + "}}";
    AnthropicMessageScan scan;
    ASSERT_TRUE(scanAnthropicMessage(body, false, false, scan)) << body;
    EXPECT_EQ(scan.output, kMalformedCount) << body;
  }
}

}  // namespace
}  // namespace tollgate::meter
