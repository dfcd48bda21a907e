// A non-streamed answer cut short (upstream cut, client gone, timeout): the body is not a JSON
// document, and its usage (at the end) never arrived. Every dialect estimates the output from
// the generated text the client received, and from every byte of a body that is not JSON.
#include <gtest/gtest.h>

#include <string>

#include "dialect_test_support.h"
#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;

constexpr std::string_view kJson = "application/json";

RequestInfo bodyInfo(std::string operation) {
  RequestInfo info;
  info.operation = std::move(operation);
  info.stream = false;
  info.estimated_input_tokens = 11;
  return info;
}

// `body` up to the end of the first `through`.
std::string cutAfter(const std::string& body, std::string_view through) {
  const size_t at = body.find(through);
  EXPECT_NE(at, std::string::npos) << through;
  return body.substr(0, at + through.size());
}

MeterResult meterCut(const Dialect& dialect, const RequestInfo& info, std::string_view body) {
  return meterAtEverySplit(dialect, info, 200, kJson, body, /*complete=*/false);
}

TEST(CutBody, OpenAiChatIsEstimatedFromTheContentReceived) {
  const OpenAiDialect dialect;
  const std::string body = readFixture("openai/chat_completion.json");
  // "The image shows a wooden": 24 bytes, 6 tokens.
  MeterResult r = meterCut(dialect, bodyInfo("chat"), cutAfter(body, "shows a wooden"));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 6}));
  // The whole content (75 bytes, 19 tokens); the usage after it is not trusted from a cut body.
  r = meterCut(dialect, bodyInfo("chat"), body.substr(0, body.rfind('}')));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 19}));
  // Cut before any text.
  r = meterCut(dialect, bodyInfo("chat"), cutAfter(body, "\"model\""));
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 0}));
}

TEST(CutBody, OpenAiCompletionWithEscapesCountsUnescapedBytes) {
  const OpenAiDialect dialect;
  // "café 😀 \"q\"\n": 5 + 1 + 4 + 1 + 3 + 1 = 15 bytes, 4 tokens.
  const std::string body =
      R"({"id":"cmpl-1","object":"text_completion","choices":[{"index":0,"text":"caf\u00e9 \ud83d\ude00 \"q\"\n)";
  const MeterResult r = meterCut(dialect, bodyInfo("text_completion"), body);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 4}));
}

TEST(CutBody, OpenAiBodyThatIsNotJsonIsEstimatedFromItsBytes) {
  const OpenAiDialect dialect;
  // 13 bytes relayed: 4 tokens.
  const MeterResult r = meterCut(dialect, bodyInfo("chat"), "<html>502 Bad");
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 4}));
}

TEST(CutBody, ResponsesIsEstimatedFromTheOutputTextReceived) {
  const OpenAiDialect dialect;
  const std::string body = readFixture("responses/response.json");
  // "Hi there! How": 13 bytes, 4 tokens.
  const MeterResult r = meterCut(dialect, bodyInfo("responses"), cutAfter(body, "Hi there! How"));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 4}));
}

TEST(CutBody, AnthropicIsEstimatedFromTheTextAndToolInputReceived) {
  const AnthropicDialect dialect;
  const std::string body = readFixture("anthropic/message.json");
  // "Hello! How can I": 16 bytes, 4 tokens.
  MeterResult r = meterCut(dialect, bodyInfo("chat"), cutAfter(body, "Hello! How can I"));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 4}));
  // Text "Let me look." (12 bytes) and tool input {"city":"Paris","unit" (22): 34, 9 tokens.
  const std::string tool =
      R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris","unit")";
  r = meterCut(dialect, bodyInfo("chat"), tool);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 9}));
}

TEST(CutBody, GeminiIsEstimatedFromThePartsReceived) {
  const GeminiDialect dialect;
  const std::string body = readFixture("gemini/generate.json");
  // "The quick brown fox jumps": 25 bytes, 7 tokens.
  const MeterResult r =
      meterCut(dialect, bodyInfo("generate_content"), cutAfter(body, "brown fox jumps"));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 7}));
}

TEST(CutBody, OllamaIsEstimatedFromTheMessageReceived) {
  const OllamaDialect dialect;
  const std::string body = readFixture("ollama/chat.json");
  // "The sky is blue because": 23 bytes, 6 tokens.
  const MeterResult r = meterCut(dialect, bodyInfo("chat"), cutAfter(body, "blue because"));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 6}));
  // /api/generate answers hold their text in "response": 9 bytes, 3 tokens.
  const MeterResult generate =
      meterCut(dialect, bodyInfo("text_completion"),
               R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28Z","response":"The sky i)");
  EXPECT_EQ(generate.usage, (Usage{.input_tokens = 11, .output_tokens = 3}));
}

TEST(CutBody, EveryDialectFallsBackToTheBytesOfABodyThatIsNotJson) {
  const AnthropicDialect anthropic;
  const GeminiDialect gemini;
  const OllamaDialect ollama;
  // 13 bytes relayed: 4 tokens.
  for (const Dialect* dialect :
       std::initializer_list<const Dialect*>{&anthropic, &gemini, &ollama}) {
    const MeterResult r = meterCut(*dialect, bodyInfo("chat"), "<html>502 Bad");
    EXPECT_EQ(r.usage, (Usage{.input_tokens = 11, .output_tokens = 4})) << dialect->name();
  }
}

}  // namespace
}  // namespace tollgate::meter
