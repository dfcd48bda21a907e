// Defect 13 of issue 13: absurd or malformed usage was booked as if true (2^63-1 tokens at
// $9.2M labelled provider; 1e400, -5, 2^64, 1.5, "12" and null silently 0 labelled provider),
// and one invalid UTF-8 byte lost an intact usage block. Every dialect, streamed and not, split
// at every byte, read through the raw-byte scanners and through simdjson alike.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "dialect_test_support.h"
#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/meter_support.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;

constexpr int64_t kRequestEstimate = 11;

// One way an answer arrives: a dialect, the request, the content type, and the body with the
// input count written as `count` and the output count as 7, generated text "hel" + `text`.
struct Shape {
  std::string name;
  const Dialect& dialect;
  RequestInfo info;
  std::string content_type;
  std::function<std::string(std::string_view count, std::string_view text)> body;
};

RequestInfo request(std::string model, std::string operation, bool stream) {
  RequestInfo info;
  info.model = std::move(model);
  info.operation = std::move(operation);
  info.stream = stream;
  info.client_asked_usage = true;
  info.estimated_input_tokens = kRequestEstimate;
  return info;
}

std::string str(std::string_view s) { return std::string(s); }

const OpenAiDialect kOpenAi;
const AnthropicDialect kAnthropic;
const GeminiDialect kGemini;
const OllamaDialect kOllama;

std::vector<Shape> shapes() {
  std::vector<Shape> all;
  all.push_back(
      {"openai chat body", kOpenAi, request("gpt-4o-mini", "chat", false), "application/json",
       [](std::string_view n, std::string_view t) {
         return R"({"id":"c1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hel)" +
                str(t) + R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":)" + str(n) +
                R"(,"completion_tokens":7,"total_tokens":19}})";
       }});
  all.push_back(
      {"openai chat stream", kOpenAi, request("gpt-4o-mini", "chat", true), "text/event-stream",
       [](std::string_view n, std::string_view t) {
         // A server that reports usage in its last content chunk (vLLM's
         // continuous usage stats): a broken byte in the text shares its event.
         return R"(data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hel)" +
                str(t) + R"("},"finish_reason":"stop"}],"usage":{"prompt_tokens":)" + str(n) +
                R"(,"completion_tokens":7}})" + "\n\ndata: [DONE]\n\n";
       }});
  all.push_back(
      {"openai responses body", kOpenAi, request("o4-mini", "responses", false), "application/json",
       [](std::string_view n, std::string_view t) {
         return R"({"id":"resp_1","object":"response","status":"completed","model":"o4-mini","output":[{"type":"message","content":[{"type":"output_text","text":"hel)" +
                str(t) + R"("}]}],"usage":{"input_tokens":)" + str(n) +
                R"(,"output_tokens":7,"total_tokens":19}})";
       }});
  all.push_back(
      {"openai responses stream", kOpenAi, request("o4-mini", "responses", true),
       "text/event-stream", [](std::string_view n, std::string_view t) {
         return "event: response.output_text.delta\ndata: "
                R"({"type":"response.output_text.delta","delta":"hel"})"
                "\n\nevent: response.completed\ndata: "
                R"({"type":"response.completed","response":{"id":"resp_1","status":"completed","model":"o4-mini","output":[{"type":"message","content":[{"type":"output_text","text":"hel)" +
                str(t) + R"("}]}],"usage":{"input_tokens":)" + str(n) + R"(,"output_tokens":7}}})" +
                "\n\n";
       }});
  all.push_back(
      {"anthropic body", kAnthropic, request("claude-sonnet-4", "messages", false),
       "application/json", [](std::string_view n, std::string_view t) {
         return R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"hel)" +
                str(t) + R"("}],"stop_reason":"end_turn","usage":{"input_tokens":)" + str(n) +
                R"(,"output_tokens":7}})";
       }});
  all.push_back(
      {"anthropic stream", kAnthropic, request("claude-sonnet-4", "messages", true),
       "text/event-stream", [](std::string_view n, std::string_view t) {
         return "event: message_start\ndata: "
                R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"usage":{"input_tokens":)" +
                str(n) +
                R"(,"output_tokens":1}}})"
                "\n\nevent: content_block_delta\ndata: "
                R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hel"}})"
                "\n\nevent: message_delta\ndata: "
                R"({"type":"message_delta","delta":{"stop_reason":"stop_sequence","stop_sequence":"x)" +
                str(t) + R"("},"usage":{"output_tokens":7}})" +
                "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
       }});
  const auto gemini = [](std::string_view n, std::string_view t) {
    return R"({"candidates":[{"content":{"parts":[{"text":"hel)" + str(t) +
           R"("}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":)" +
           str(n) +
           R"(,"candidatesTokenCount":7,"totalTokenCount":19},"modelVersion":"gemini-2.0-flash"})";
  };
  all.push_back({"gemini body", kGemini, request("gemini-2.0-flash", "chat", false),
                 "application/json", gemini});
  all.push_back({"gemini sse", kGemini, request("gemini-2.0-flash", "chat", true),
                 "text/event-stream", [gemini](std::string_view n, std::string_view t) {
                   return "data: " + gemini(n, t) + "\r\n\r\n";
                 }});
  all.push_back(
      {"gemini json array", kGemini, request("gemini-2.0-flash", "chat", true), "application/json",
       [gemini](std::string_view n, std::string_view t) { return "[" + gemini(n, t) + "]"; }});
  const auto ollama = [](std::string_view n, std::string_view t) {
    return R"({"model":"llama3","message":{"role":"assistant","content":"hel)" + str(t) +
           R"("},"done":true,"done_reason":"stop","prompt_eval_count":)" + str(n) +
           R"(,"eval_count":7})";
  };
  all.push_back(
      {"ollama body", kOllama, request("llama3", "chat", false), "application/json", ollama});
  all.push_back(
      {"ollama ndjson", kOllama, request("llama3", "chat", true), "application/x-ndjson",
       [ollama](std::string_view n, std::string_view t) {
         return R"({"model":"llama3","message":{"role":"assistant","content":"hel"},"done":false})"
                "\n" +
                ollama(n, t) + "\n";
       }});
  return all;
}

// Meters with the raw-byte pre-filters on, then off: both readings must give `check`'s result.
void meterBothWays(const Shape& shape, const std::string& body,
                   const std::function<void(const MeterResult&)>& check) {
  for (const bool pre_filter : {true, false}) {
    support::setPreFilterEnabled(pre_filter);
    SCOPED_TRACE(shape.name + (pre_filter ? " (pre-filter)" : " (simdjson)") + ": " + body);
    check(meterAtEverySplit(shape.dialect, shape.info, 200, shape.content_type, body));
  }
  support::setPreFilterEnabled(true);
}

TEST(AbsurdUsage, EveryShapeReadsAWellFormedCountAsTheProviderSaidIt) {
  for (const Shape& shape : shapes()) {
    meterBothWays(shape, shape.body("12", "lo"), [](const MeterResult& r) {
      EXPECT_EQ(r.usage_source, UsageSource::kProvider);
      EXPECT_EQ(r.usage_flags, 0u);
      EXPECT_EQ(r.usage.input_tokens, 12);
      EXPECT_EQ(r.usage.output_tokens, 7);
    });
  }
}

TEST(AbsurdUsage, MalformedOrAbsurdCountsAreRefusedEstimatedAndFlaggedInEveryDialect) {
  const char* const kCounts[] = {
      "9223372036854775807",   // 2^63-1: once booked at $9,223,372.04
      "18446744073709551616",  // 2^64
      "1e400",
      "-5",
      "1.5",
      "\"12\"",
      "null",
      "1000000001",  // one past the per-call bound
      "12.0",
      "1E2",
      "true",
      "[12]",
      "{}",
  };
  for (const Shape& shape : shapes()) {
    for (const char* count : kCounts) {
      meterBothWays(shape, shape.body(count, "lo"), [](const MeterResult& r) {
        EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
        EXPECT_EQ(r.usage_flags, kUsageCountRefused);
        EXPECT_TRUE(withinBounds(r.usage));
        // Never 0 labelled provider: the input is the request's estimate.
        EXPECT_EQ(r.usage.input_tokens, kRequestEstimate);
      });
    }
  }
}

TEST(AbsurdUsage, InvalidUtf8AroundAnIntactUsageBlockKeepsTheProviderUsage) {
  for (const Shape& shape : shapes()) {
    // A broken byte in the text that shares the usage's document (or event).
    meterBothWays(shape, shape.body("12", "l\xFFo"), [](const MeterResult& r) {
      EXPECT_EQ(r.usage_source, UsageSource::kProvider);
      EXPECT_EQ(r.usage_flags, 0u);
      EXPECT_EQ(r.usage.input_tokens, 12);
      EXPECT_EQ(r.usage.output_tokens, 7);
    });
  }
}

TEST(AbsurdUsage, InvalidUtf8DoesNotMakeAMalformedCountBookable) {
  for (const Shape& shape : shapes()) {
    meterBothWays(shape, shape.body("-5", "l\xC3o"), [](const MeterResult& r) {
      EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
      EXPECT_EQ(r.usage_flags, kUsageCountRefused);
    });
  }
}

// Sums across the counts (Anthropic's input + cache parts, Gemini's prompt + tool prompt)
// saturate instead of wrapping, and a sum beyond the bound is refused like a count.
TEST(AbsurdUsage, SumsOfLargeCountsSaturateAndAreRefused) {
  EXPECT_EQ(addCounts(kMalformedCount, 5), kMalformedCount);
  EXPECT_EQ(addCounts(kMalformedCount, kMalformedCount), kMalformedCount);
  EXPECT_EQ(addCounts(-kMalformedCount, -5), std::numeric_limits<int64_t>::min());
  const std::string body =
      R"({"id":"msg_1","type":"message","model":"claude-sonnet-4-20250514","content":[],"usage":{"input_tokens":600000000,"cache_read_input_tokens":600000000,"output_tokens":7}})";
  const MeterResult r = meterAtEverySplit(kAnthropic, request("claude", "messages", false), 200,
                                          "application/json", body);
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage_flags, kUsageCountRefused);
}

}  // namespace
}  // namespace tollgate::meter
