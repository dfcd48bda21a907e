// The pre-filters (content events read from their raw bytes, json_scanner.h) against simdjson:
// every fixture and every adversarial stream metered with the pre-filter on and off gives the
// same result and relays the same bytes, at every split; and text that looks like usage, errors
// or a finished answer never counts as such.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dialect_test_support.h"
#include "meter/anthropic_dialect.h"
#include "meter/gemini_dialect.h"
#include "meter/meter_support.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::expectSameResult;
using testing::Fed;
using testing::feed;
using testing::readFixture;

constexpr std::string_view kSse = "text/event-stream";
constexpr std::string_view kNdjson = "application/x-ndjson";
constexpr std::string_view kJson = "application/json";

// Turns the pre-filter off for this thread while alive.
class PreFilterOff {
 public:
  PreFilterOff() { support::setPreFilterEnabled(false); }
  ~PreFilterOff() { support::setPreFilterEnabled(true); }
};

RequestInfo streamInfo(std::string operation, bool gateway_asked = false) {
  RequestInfo info;
  info.operation = std::move(operation);
  info.stream = true;
  info.client_asked_usage = !gateway_asked;
  info.gateway_asked_usage = gateway_asked;
  info.estimated_input_tokens = 11;
  return info;
}

// Meters `body` with the pre-filter on, whole, split in two at every byte and one byte at a
// time, and whole with it off: the same bytes out and the same result every time. Returns it.
MeterResult meterBothWays(const Dialect& dialect, const RequestInfo& info, std::string_view type,
                          std::string_view body, bool complete = true) {
  Fed off;
  {
    PreFilterOff pre_filter_off;
    off = feed(dialect, info, 200, type, body, {}, complete);
  }
  const Fed on = feed(dialect, info, 200, type, body, {}, complete);
  EXPECT_EQ(on.out, off.out);
  expectSameResult(on.result, off.result, "pre-filter on and off");
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    const Fed split = feed(dialect, info, 200, type, body, {cut}, complete);
    if (split.out != off.out) ADD_FAILURE() << "bytes differ when split at " << cut;
    expectSameResult(split.result, off.result, "split at " + std::to_string(cut));
    if (::testing::Test::HasFailure()) break;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < body.size(); ++i) every.push_back(i);
  const Fed bytewise = feed(dialect, info, 200, type, body, every, complete);
  EXPECT_EQ(bytewise.out, off.out);
  expectSameResult(bytewise.result, off.result, "one byte at a time");
  return off.result;
}

// Both ways, complete and cut short (the cut drops nothing: the estimate path runs).
void meterFixtureBothWays(const Dialect& dialect, const RequestInfo& info, std::string_view type,
                          const std::string& path) {
  SCOPED_TRACE(path);
  const std::string body = readFixture(path);
  meterBothWays(dialect, info, type, body, true);
  meterBothWays(dialect, info, type, body, false);
}

TEST(PreFilter, EveryOpenAiFixtureMetersAsWithoutIt) {
  const OpenAiDialect dialect;
  for (const char* path :
       {"openai/stream_with_usage.sse", "openai/stream_without_usage.sse",
        "openai/stream_error_midstream.sse", "openai/stream_reasoning_with_usage.sse",
        "openai/stream_reasoning_without_usage.sse"}) {
    meterFixtureBothWays(dialect, streamInfo("chat"), kSse, path);
    meterFixtureBothWays(dialect, streamInfo("chat", true), kSse, path);
  }
  for (const char* path : {"responses/stream.sse", "responses/stream_cut_before_usage.sse",
                           "responses/stream_error_midstream.sse", "responses/stream_failed.sse",
                           "responses/stream_incomplete.sse"}) {
    meterFixtureBothWays(dialect, streamInfo("responses"), kSse, path);
  }
}

TEST(PreFilter, EveryAnthropicGeminiAndOllamaFixtureMetersAsWithoutIt) {
  const AnthropicDialect anthropic;
  for (const char* path :
       {"anthropic/stream.sse", "anthropic/stream_cut_before_usage.sse",
        "anthropic/stream_error_midstream.sse", "anthropic/stream_server_tools.sse"}) {
    meterFixtureBothWays(anthropic, streamInfo("chat"), kSse, path);
  }
  const GeminiDialect gemini;
  for (const char* path : {"gemini/stream.sse", "gemini/stream_cut_before_usage.sse",
                           "gemini/stream_error_midstream.sse"}) {
    meterFixtureBothWays(gemini, streamInfo("generate_content"), kSse, path);
  }
  for (const char* path : {"gemini/stream.json", "gemini/stream_cut_before_usage.json",
                           "gemini/stream_error_midstream.json"}) {
    meterFixtureBothWays(gemini, streamInfo("generate_content"), kJson, path);
  }
  const OllamaDialect ollama;
  for (const char* path : {"ollama/chat.ndjson", "ollama/chat_cut_before_usage.ndjson",
                           "ollama/chat_error_midstream.ndjson", "ollama/chat_prompt_cached.ndjson",
                           "ollama/generate.ndjson", "ollama/fuzz_malformed_lines.ndjson"}) {
    meterFixtureBothWays(ollama, streamInfo("chat"), kNdjson, path);
  }
}

// ---- Anthropic ---------------------------------------------------------------------------------

// Text deltas that spell out usage, an error and a message_delta; one delta with unicode
// escapes. Their text: 60 + 16 = 76 bytes.
std::string anthropicStream(bool usage_on_a_delta, bool with_message_delta) {
  std::string s =
      "event: message_start\ndata: "
      R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":100,"output_tokens":1}}})"
      "\n\nevent: content_block_delta\ndata: "
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":999}} error"}})"
      "\n\nevent: content_block_delta\ndata: "
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"caf\u00e9 \ud83d\ude00 usage"})";
  s += usage_on_a_delta ? R"(,"usage":{"output_tokens":40}})" : "}";
  s += "\n\n";
  if (with_message_delta) {
    s +=
        "event: message_delta\ndata: "
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":42}})"
        "\n\n";
  }
  return s;
}

TEST(PreFilter, AnthropicTextThatSpellsUsageIsText) {
  const AnthropicDialect dialect;
  const MeterResult done =
      meterBothWays(dialect, streamInfo("chat"), kSse, anthropicStream(false, true), true);
  EXPECT_EQ(done.usage_source, UsageSource::kProvider);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 100, .output_tokens = 42}));
  EXPECT_FALSE(done.upstream_error);
  EXPECT_EQ(done.finish_reasons, std::vector<std::string>{"end_turn"});

  // Cut before message_delta: ceil(76 / 4) = 19 tokens of text relayed.
  const MeterResult cut =
      meterBothWays(dialect, streamInfo("chat"), kSse, anthropicStream(false, false), false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 100, .output_tokens = 19}));
  EXPECT_FALSE(cut.upstream_error);
}

TEST(PreFilter, AnthropicUsageOnAContentDeltaIsRead) {
  // A delta that also carries a usage member is not a plain text delta: its count (40, above
  // the 19 the text gives) is the output so far.
  const AnthropicDialect dialect;
  const MeterResult cut =
      meterBothWays(dialect, streamInfo("chat"), kSse, anthropicStream(true, false), false);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 100, .output_tokens = 40}));
}

TEST(PreFilter, AnthropicDeltaWithStopReasonOrErrorTypeIsRead) {
  const AnthropicDialect dialect;
  const std::string body =
      "event: content_block_delta\ndata: "
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"abcd","stop_reason":"max_tokens"}})"
      "\n\nevent: error\ndata: "
      R"({"type":"error","index":0,"delta":{"type":"text_delta","text":"efgh"}})"
      "\n\n";
  const MeterResult cut = meterBothWays(dialect, streamInfo("chat"), kSse, body, false);
  EXPECT_EQ(cut.finish_reasons, std::vector<std::string>{"max_tokens"});
  EXPECT_TRUE(cut.upstream_error);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 11, .output_tokens = 2}));
}

// ---- OpenAI chat -------------------------------------------------------------------------------

std::string openAiChunk(std::string_view head, std::string_view choices, std::string_view tail) {
  return "data: " + std::string(head) + R"("choices":[)" + std::string(choices) + "]" +
         std::string(tail) + "}\n\n";
}

constexpr std::string_view kHead =
    R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","service_tier":"priority",)";
constexpr std::string_view kOtherHead =
    R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","service_tier":"default",)";

// Content that spells out usage and an error (62 bytes), unicode escapes (10 bytes), a chunk
// whose service tier differs from the others', and (when `continuous`) a usage object on a
// content chunk, as vLLM's continuous_usage_stats sends.
std::string openAiStream(bool continuous, bool with_final_usage) {
  std::string s = openAiChunk(
      kHead, R"({"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null})",
      R"(,"usage":null)");
  s += openAiChunk(
      kHead,
      R"({"index":0,"delta":{"content":"\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":999},\"error\":{}"},"finish_reason":null})",
      R"(,"usage":null)");
  s += openAiChunk(kOtherHead, R"({"index":0,"delta":{"content":""},"finish_reason":null})",
                   R"(,"usage":null)");
  s += openAiChunk(
      kHead, R"({"index":0,"delta":{"content":"caf\u00e9 \ud83d\ude00"},"finish_reason":null})",
      continuous ? R"(,"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10})"
                 : R"(,"usage":null)");
  s += openAiChunk(kHead, R"({"index":0,"delta":{},"finish_reason":"stop"})", R"(,"usage":null)");
  if (with_final_usage) {
    s += openAiChunk(kHead, "",
                     R"(,"usage":{"prompt_tokens":12,"completion_tokens":20,"total_tokens":32})");
  }
  return s + "data: [DONE]\n\n";
}

TEST(PreFilter, OpenAiContentThatSpellsUsageIsText) {
  const OpenAiDialect dialect;
  const MeterResult done =
      meterBothWays(dialect, streamInfo("chat"), kSse, openAiStream(false, true), true);
  EXPECT_EQ(done.usage_source, UsageSource::kProvider);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 12, .output_tokens = 20}));
  EXPECT_FALSE(done.upstream_error);
  EXPECT_EQ(done.response_id, "c1");
  EXPECT_EQ(done.response_model, "gpt-4o");
  // The last chunks repeat the first head: its tier is the one they name.
  EXPECT_EQ(done.service_tier, "priority");
  EXPECT_EQ(done.finish_reasons, std::vector<std::string>{"stop"});

  // Cut before the usage chunk: ceil((62 + 10) / 4) = 18 tokens of text relayed.
  const MeterResult cut =
      meterBothWays(dialect, streamInfo("chat"), kSse, openAiStream(false, false), false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 11, .output_tokens = 18}));
  EXPECT_FALSE(cut.upstream_error);
}

TEST(PreFilter, OpenAiUsageOnAContentChunkIsRead) {
  const OpenAiDialect dialect;
  const MeterResult cut =
      meterBothWays(dialect, streamInfo("chat"), kSse, openAiStream(true, false), false);
  EXPECT_EQ(cut.usage_source, UsageSource::kProvider);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 7, .output_tokens = 3}));
}

TEST(PreFilter, OpenAiHiddenUsageRemovesTheSameBytesEitherWay) {
  const OpenAiDialect dialect;
  const std::string body = openAiStream(false, true);
  const MeterResult done = meterBothWays(dialect, streamInfo("chat", true), kSse, body, true);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 12, .output_tokens = 20}));
  const Fed fed = feed(dialect, streamInfo("chat", true), 200, kSse, body, {}, true);
  EXPECT_EQ(fed.out.find("usage\":null"), std::string::npos);
  EXPECT_EQ(fed.out.find("completion_tokens\":20"), std::string::npos);
  // The content that spells "usage" is relayed untouched.
  EXPECT_NE(fed.out.find(R"(\"usage\":{\"prompt_tokens\":1)"), std::string::npos);
}

TEST(PreFilter, OpenAiChunksWithErrorsTimingsOrEscapedKeysAreReadAsBefore) {
  const OpenAiDialect dialect;
  std::string body = openAiChunk(
      kHead,
      R"({"index":0,"delta":{"con\u0074ent":"not counted","content":"abcd"},"finish_reason":null})",
      R"(,"usage":null)");
  body += openAiChunk(kHead, R"({"index":0,"delta":{"content":"efgh"},"finish_reason":null})",
                      R"(,"timings":{"prompt_n":5,"predicted_n":6})");
  body += openAiChunk(kHead, R"({"index":0,"delta":{"content":"ijkl"},"finish_reason":null})",
                      R"(,"error":{"type":"server_error","message":"boom"})");
  const MeterResult cut = meterBothWays(dialect, streamInfo("chat"), kSse, body, false);
  EXPECT_TRUE(cut.upstream_error);
  EXPECT_EQ(cut.error_type, "server_error");
  EXPECT_EQ(cut.usage_source, UsageSource::kProvider);  // llama.cpp timings
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 5, .output_tokens = 6}));
}

// Choices as OpenAI serializes a content chunk (read in one go by the pre-filter), and near
// misses of that serialization, which are read member by member or by simdjson.
TEST(PreFilter, OpenAiContentChoicesMeterAsWithoutIt) {
  const OpenAiDialect dialect;
  std::string body;
  for (
      std::string_view choice : {
          R"({"index":0,"delta":{"content":"abcd"},"logprobs":null,"finish_reason":null})",
          R"({"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":null})",
          R"({"index":0,"delta":{"content":"caf\u00e9 \ud83d\ude00 \"q\""},"logprobs":null,"finish_reason":null})",
          "{\"index\":0,\"delta\":{\"content\":\"h\xc3\xa9llo\"},\"logprobs\":null,\"finish_"
          "reason\":null}",
          R"({"index":0,"delta":{"content": "ef" },"logprobs":null,"finish_reason":null})",
          R"({"index":0,"delta":{"content":null},"logprobs":null,"finish_reason":null})",
          R"({"index":0,"delta":{"content":"gh"},"logprobs":{"content":[]},"finish_reason":null})",
          R"({"index":0,"delta":{"content":"ij","role":"assistant"},"logprobs":null,"finish_reason":null})",
          R"({"index":0,"delta":{"content":"kl"},"logprobs":null,"finish_reason":null},{"index":1,"delta":{"content":"mn"},"logprobs":null,"finish_reason":null})",
          R"({"index":0,"delta":{"content":12},"logprobs":null,"finish_reason":null})",
      }) {
    body += openAiChunk(kHead, choice, R"(,"usage":null)");
  }
  body += openAiChunk(kHead, R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})",
                      R"(,"usage":null)");
  body += "data: [DONE]\n\n";
  // abcd, "", café 😀 "q" (14 bytes), héllo (6), ef, gh, ij, kl, mn: 4 + 14 + 6 + 2 * 5 = 34
  // bytes, ceil(34 / 4) = 9 tokens.
  const MeterResult cut = meterBothWays(dialect, streamInfo("chat"), kSse, body, false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 11, .output_tokens = 9}));
  EXPECT_EQ(cut.finish_reasons, std::vector<std::string>{"stop"});
  meterBothWays(dialect, streamInfo("chat", true), kSse, body, true);
}

TEST(PreFilter, OpenAiFinishReasonsMeterAsWithoutIt) {
  const OpenAiDialect dialect;
  const std::string_view choices[] = {
      R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})",
      R"({"index":0,"delta":{},"finish_reason":"length"},{"index":1,"delta":{"content":"ab"},"finish_reason":"tool_calls"})",
      R"({"index":0,"delta":{},"finish_reason":"st\u006fp"})",
      R"({"index":0,"delta":{},"finish_reason":7})",
      R"({"index":0,"finish_reason":"a"},{"index":1,"finish_reason":"b"},{"index":2,"finish_reason":"c"},{"index":3,"finish_reason":"d"})",
      R"({"index":0,"finish_reason":"a"},{"index":1,"finish_reason":"b"},{"index":2,"finish_reason":"c"},{"index":3,"finish_reason":"d"},{"index":4,"finish_reason":"e"})",
  };
  std::string all;
  for (const std::string_view choice : choices) {
    SCOPED_TRACE(choice);
    const std::string body = openAiChunk(kHead, choice, R"(,"usage":null)") + "data: [DONE]\n\n";
    meterBothWays(dialect, streamInfo("chat"), kSse, body, true);
    meterBothWays(dialect, streamInfo("chat", true), kSse, body, true);
    all += openAiChunk(kHead, choice, "");
  }
  const MeterResult done = meterBothWays(dialect, streamInfo("chat"), kSse, all, true);
  EXPECT_EQ(done.finish_reasons,
            (std::vector<std::string>{"stop", "length", "tool_calls", "stop", "a", "b", "c", "d",
                                      "a", "b", "c", "d", "e"}));
}

TEST(PreFilter, OpenAiUsageObjectsMeterAsWithoutIt) {
  const OpenAiDialect dialect;
  const std::string_view tails[] = {
      R"(,"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"(,"usage":{"prompt_tokens":-1,"completion_tokens":0,"total_tokens":-1,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":2,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"(,"usage":{"prompt_tokens":1500,"completion_tokens":null,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"(,"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1.5,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"(,"usage":{"prompt_tokens": 1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"(,"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0,"cache_write_tokens":7},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})",
      R"(,"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"usage":null)",
      R"(,"usage":{"prompt_tokens":1500,"completion_tokens":400,"total_tokens":1900,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":64,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0})",
      R"(,"usage":null,"x":1)",
      R"(,"usage":null ,"x":1)",
      R"(,"usage":nul)",
      R"(,"usage":{"prompt_tokens":5,"completion_tokens":6,"prompt_tokens_details":{"cached_tokens":2,"cache_write_tokens":3}})",
      R"(,"usage":{"prompt_tokens":null,"completion_tokens":-4,"prompt_tokens_details":{"cached_tokens":null}})",
      R"(,"usage":{"prompt_tokens":1.5,"completion_tokens":6})",
      R"(,"usage":{"prompt_tokens":"5","completion_tokens":6})",
      R"(,"usage":{"prompt_tokens":123456789012345678901,"completion_tokens":6})",
      R"(,"usage":{"prompt_tokens":5,"completion_tokens":6,"prompt_tokens_details":null})",
      R"(,"usage":{"prompt_tokens":5,"completion_tokens":6,"completion_tokens_details":[1]})",
      R"(,"usage":{"prompt_tokens":5},"usage":{"completion_tokens":6})",
      R"(,"usage":null,"usage":{"prompt_tokens":5,"completion_tokens":6})",
      R"(,"usage":{"prompt_tokens":5,"completion_tokens":6},"usage":null)",
      R"(,"usage":{"prompt_tokens":5,"completion_tokens":6,"prompt_tokens":8})",
      R"(,"usage":{ "prompt_tokens" : 5 , "completion_tokens" : 6 } )",
      R"(,"usage":{"prompt_tokens":5,"completion_tokens":6},"timings":{"prompt_n":1})",
      R"(,"usage":{"prompt_t\u006fkens":5,"completion_tokens":6})",
      R"(,"usage":{})",
      R"(,"usage":7)",
  };
  for (const std::string_view tail : tails) {
    SCOPED_TRACE(tail);
    std::string body = openAiChunk(
        kHead, R"({"index":0,"delta":{"content":"abcd"},"logprobs":null,"finish_reason":null})",
        R"(,"usage":null)");
    body += openAiChunk(kHead, "", tail);
    body += "data: [DONE]\n\n";
    meterBothWays(dialect, streamInfo("chat"), kSse, body, true);
    meterBothWays(dialect, streamInfo("chat", true), kSse, body, true);
    meterBothWays(dialect, streamInfo("chat", true), kSse, body, false);
  }
  // OpenAI's serialization of the usage, read in one go.
  {
    std::string body = openAiChunk(
        kHead, R"({"index":0,"delta":{"content":"abcd"},"logprobs":null,"finish_reason":null})",
        R"(,"usage":null)");
    body += openAiChunk(kHead, "", tails[0]);
    const MeterResult done = meterBothWays(dialect, streamInfo("chat", true), kSse, body, true);
    EXPECT_EQ(done.usage, (Usage{.input_tokens = 1500,
                                 .cache_read_tokens = 1024,
                                 .output_tokens = 400,
                                 .reasoning_tokens = 64}));
    const Fed fed = feed(dialect, streamInfo("chat", true), 200, kSse, body, {}, true);
    EXPECT_EQ(
        fed.out,
        openAiChunk(
            kHead, R"({"index":0,"delta":{"content":"abcd"},"logprobs":null,"finish_reason":null})",
            ""));
  }
  // The usage before "choices", and on a chunk that also finishes the answer.
  const std::string body =
      "data: " + std::string(kHead) +
      R"("usage":{"prompt_tokens":9,"completion_tokens":2,"completion_tokens_details":{"reasoning_tokens":1}},"choices":[{"index":0,"delta":{"content":"ab"},"finish_reason":"stop"}]})" +
      "\n\ndata: [DONE]\n\n";
  const MeterResult done = meterBothWays(dialect, streamInfo("chat", true), kSse, body, true);
  EXPECT_EQ(done.usage_source, UsageSource::kProvider);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 9, .output_tokens = 2, .reasoning_tokens = 1}));
  EXPECT_EQ(done.finish_reasons, std::vector<std::string>{"stop"});
}

// ---- Gemini, Ollama, Responses -----------------------------------------------------------------

TEST(PreFilter, GeminiTextThatSpellsUsageIsText) {
  const std::string text_chunk =
      R"({"candidates":[{"content":{"parts":[{"text":"\"usageMetadata\":{\"candidatesTokenCount\":999},\"error\":{}"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":4,"totalTokenCount":54},"modelVersion":"gemini-2.5-flash","responseId":"r1"})";
  const std::string last_chunk =
      R"({"candidates":[{"content":{"parts":[{"text":"caf\u00e9"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":30,"thoughtsTokenCount":5,"totalTokenCount":85},"modelVersion":"gemini-2.5-flash","responseId":"r1"})";
  const GeminiDialect dialect;
  const RequestInfo info = streamInfo("generate_content");
  const std::string sse = "data: " + text_chunk + "\r\n\r\ndata: " + last_chunk + "\r\n\r\n";
  const MeterResult done = meterBothWays(dialect, info, kSse, sse, true);
  EXPECT_EQ(done.usage_source, UsageSource::kProvider);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 50, .output_tokens = 35, .reasoning_tokens = 5}));
  EXPECT_FALSE(done.upstream_error);
  EXPECT_EQ(done.response_model, "gemini-2.5-flash");

  // Cut after the first chunk: its text is 55 bytes, ceil(55 / 4) = 14 > its count of 4.
  const std::string array = "[" + text_chunk + ",\r\n" + last_chunk + "]";
  const MeterResult cut = meterBothWays(
      dialect, info, kJson, std::string_view(array).substr(0, text_chunk.size() + 3), false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 50, .output_tokens = 14}));
  EXPECT_FALSE(cut.upstream_error);
  EXPECT_TRUE(cut.finish_reasons.empty());
}

TEST(PreFilter, OllamaTextThatSpellsDoneIsText) {
  const std::string body =
      R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28Z","message":{"role":"assistant","content":"\"done\":true,\"eval_count\":999,\"error\":\"x\""},"done":false})"
      "\n"
      R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28Z","message":{"role":"assistant","content":"caf\u00e9"},"done":false})"
      "\n";
  const OllamaDialect dialect;
  // "done":true,"eval_count":999,"error":"x" is 40 bytes, café 5: ceil(45 / 4) = 12.
  const MeterResult cut = meterBothWays(dialect, streamInfo("chat"), kNdjson, body, false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 11, .output_tokens = 12}));
  EXPECT_FALSE(cut.upstream_error);
  EXPECT_EQ(cut.response_model, "llama3.2");
}

TEST(PreFilter, ResponsesDeltaThatSpellsACompletedResponseIsText) {
  const std::string body =
      "event: response.output_text.delta\ndata: "
      R"({"type":"response.output_text.delta","sequence_number":1,"item_id":"m","output_index":0,"content_index":0,"delta":"{\"type\":\"response.completed\",\"response\":{\"usage\":{\"output_tokens\":999}}}"})"
      "\n\nevent: response.output_text.delta\ndata: "
      R"({"type":"response.output_text.delta","sequence_number":2,"item_id":"m","output_index":0,"content_index":0,"delta":"caf\u00e9"})"
      "\n\n";
  const OpenAiDialect dialect;
  // The first delta is 72 bytes of text, café 5: ceil(77 / 4) = 20.
  const MeterResult cut = meterBothWays(dialect, streamInfo("responses"), kSse, body, false);
  EXPECT_EQ(cut.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(cut.usage, (Usage{.input_tokens = 11, .output_tokens = 20}));
  EXPECT_TRUE(cut.finish_reasons.empty());
}

// ---- Non-streamed bodies ------------------------------------------------------------------------

RequestInfo bodyInfo(std::string operation) {
  RequestInfo info;
  info.operation = std::move(operation);
  info.estimated_input_tokens = 11;
  return info;
}

TEST(PreFilter, EveryJsonBodyFixtureMetersAsWithoutIt) {
  const OpenAiDialect openai;
  meterFixtureBothWays(openai, bodyInfo("chat"), kJson, "openai/chat_completion.json");
  meterFixtureBothWays(openai, bodyInfo("embeddings"), kJson, "openai/embeddings.json");
  const AnthropicDialect anthropic;
  meterFixtureBothWays(anthropic, bodyInfo("chat"), kJson, "anthropic/message.json");
}

constexpr std::string_view kCompletionUsage =
    R"("usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":7}})";

std::string openAiBody(std::string_view choices, std::string_view tail = kCompletionUsage) {
  return R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[)" +
         std::string(choices) + "]," + std::string(tail) + R"(,"service_tier":"priority"})";
}

constexpr std::string_view kStopChoice =
    R"({"index":0,"message":{"role":"assistant","content":"abcd","refusal":null},"finish_reason":"stop"})";

TEST(PreFilter, OpenAiBodyContentThatSpellsUsageIsText) {
  const OpenAiDialect dialect;
  const MeterResult done = meterBothWays(
      dialect, bodyInfo("chat"), kJson,
      openAiBody(
          R"({"index":0,"message":{"role":"assistant","content":"\"usage\":{\"prompt_tokens\":9},\"error\":{} caf\u00e9 \ud83d\ude00"},"finish_reason":"length"})"));
  EXPECT_EQ(done.usage_source, UsageSource::kProvider);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 1117,
                               .cache_read_tokens = 1024,
                               .output_tokens = 46,
                               .reasoning_tokens = 7}));
  EXPECT_FALSE(done.upstream_error);
  EXPECT_EQ(done.response_id, "chatcmpl-1");
  EXPECT_EQ(done.response_model, "gpt-4o");
  EXPECT_EQ(done.service_tier, "priority");
  EXPECT_EQ(done.finish_reasons, std::vector<std::string>{"length"});
}

TEST(PreFilter, OpenAiBodiesOfEveryShapeMeterAsWithoutIt) {
  const OpenAiDialect dialect;
  const std::string many_choices = [] {
    std::string s;
    for (int i = 0; i < 9; ++i) s += std::string(i ? "," : "") + std::string(kStopChoice);
    return s;
  }();
  const std::vector<std::string> bodies = {
      openAiBody(kStopChoice),
      // Several choices, and more finish reasons than the scan keeps.
      openAiBody(std::string(kStopChoice) + "," + std::string(kStopChoice)),
      openAiBody(many_choices),
      // Escapes where the scan keeps strings; escaped keys.
      R"({"id":"chat\u0063mpl-2","model":"gpt-4o","choices":[)" + std::string(kStopChoice) + "]}",
      R"({"id":"c","model":"gpt\/4o","choices":[{"finish_reason":"st\u006fp"}],"service_tier":"fl\u0065x"})",
      R"({"id":"c","choices":[{"message":{"con\u0074ent":"not counted","content":"abcd"}}],"usa\u0067e":{"prompt_tokens":5}})",
      // Counts: null, negative, fractional, huge, strings; details that are not objects.
      openAiBody(
          kStopChoice,
          R"("usage":{"prompt_tokens":null,"completion_tokens":-3,"prompt_tokens_details":null,"completion_tokens_details":[1]})"),
      openAiBody(kStopChoice, R"("usage":{"prompt_tokens":1.5,"completion_tokens":2})"),
      openAiBody(kStopChoice, R"("usage":{"prompt_tokens":1e3,"completion_tokens":2})"),
      openAiBody(kStopChoice,
                 R"("usage":{"prompt_tokens":99999999999999999999,"completion_tokens":2})"),
      openAiBody(kStopChoice, R"("usage":{"prompt_tokens":"12","completion_tokens":2})"),
      // Usage null, of another type, twice (the last one wins whole).
      openAiBody(kStopChoice, R"("usage":null)"),
      openAiBody(kStopChoice, R"("usage":5)"),
      openAiBody(kStopChoice,
                 std::string(kCompletionUsage) + R"(,"usage":{"completion_tokens":3})"),
      // An error, llama.cpp timings.
      openAiBody(kStopChoice, R"("error":{"type":"server_error","message":"boom"})"),
      openAiBody(kStopChoice, R"("timings":{"prompt_n":5,"cache_n":2,"predicted_n":6})"),
      // A choice that is not an object stops the reading there; choices that are not an array.
      R"({"id":"c","choices":[1,{"message":{"content":"abcd"}}],"usage":{"prompt_tokens":5}})",
      R"({"id":"c","choices":{"message":{"content":"abcd"}},"usage":{"prompt_tokens":5}})",
      // Messages and deltas that are not objects, content of other types, legacy text.
      R"({"choices":[{"message":"abcd","delta":null},{"message":{"content":null}},{"delta":{"content":["x"]}},{"text":"efgh"},{"text":7}]})",
      // The first non-empty id and model win; ids and models of other types are skipped.
      R"({"id":"","model":7,"id":"c2","model":"","id":"c3","model":"m2","model":"m3","choices":[]})",
      R"({"service_tier":"batch","service_tier":null,"service_tier":"default","choices":[]})",
      // Pretty-printed, with every kind of whitespace.
      "{\n  \"id\" : \"c\",\r\n\t\"choices\" : [ { \"message\" : { \"content\" : \"abcd\" } ,"
      " \"finish_reason\" : \"stop\" } ] ,\n \"usage\" : { \"prompt_tokens\" : 5 , "
      "\"completion_tokens\" : 6 }\n}\n",
      // Not one well-formed object: content after it, cut short, invalid UTF-8, not an object.
      openAiBody(kStopChoice) + " {}",
      openAiBody(kStopChoice).substr(0, 120),
      R"({"id":"c","choices":[{"message":{"content":"caf\xC3"}}],"usage":{"prompt_tokens":5}})",
      R"([{"id":"c","usage":{"prompt_tokens":5}}])",
      "",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    meterBothWays(dialect, bodyInfo("chat"), kJson, body, true);
  }
}

TEST(PreFilter, OpenAiBodyTextCompletionAndEmbeddingsMeterAsWithoutIt) {
  const OpenAiDialect dialect;
  const MeterResult text = meterBothWays(
      dialect, bodyInfo("text_completion"), kJson,
      R"({"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"text":"abcdefgh","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})");
  EXPECT_EQ(text.usage, (Usage{.input_tokens = 5, .output_tokens = 7}));
  EXPECT_EQ(text.finish_reasons, std::vector<std::string>{"length"});
  // Without usage the output is estimated from the text: ceil(8 / 4) = 2.
  const MeterResult estimated =
      meterBothWays(dialect, bodyInfo("text_completion"), kJson,
                    R"({"id":"cmpl-1","choices":[{"text":"abcdefgh","finish_reason":"length"}]})");
  EXPECT_EQ(estimated.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(estimated.usage, (Usage{.input_tokens = 11, .output_tokens = 2}));
}

// ---- Anthropic messages
// ---------------------------------------------------------------------------

std::string anthropicMessage(std::string_view content, std::string_view usage) {
  return R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[)" +
         std::string(content) + R"(],"stop_reason":"end_turn","stop_sequence":null,"usage":)" +
         std::string(usage) + "}";
}

constexpr std::string_view kMessageUsage =
    R"({"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"cache_creation":{"ephemeral_5m_input_tokens":5,"ephemeral_1h_input_tokens":15},"output_tokens":40,"service_tier":"priority"})";

TEST(PreFilter, AnthropicMessageTextThatSpellsUsageIsText) {
  const AnthropicDialect dialect;
  const MeterResult done = meterBothWays(
      dialect, bodyInfo("chat"), kJson,
      anthropicMessage(
          R"({"type":"thinking","thinking":"\"usage\":{}","signature":"abc"},{"type":"text","text":"caf\u00e9 \"type\":\"error\""})",
          kMessageUsage));
  EXPECT_EQ(done.usage_source, UsageSource::kProvider);
  EXPECT_EQ(done.usage, (Usage{.input_tokens = 150,
                               .cache_read_tokens = 30,
                               .cache_write_tokens = 20,
                               .output_tokens = 40,
                               .cache_write_1h_tokens = 15}));
  EXPECT_FALSE(done.upstream_error);
  EXPECT_EQ(done.response_id, "msg_1");
  EXPECT_EQ(done.response_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(done.service_tier, "priority");
  EXPECT_EQ(done.finish_reasons, std::vector<std::string>{"end_turn"});
}

TEST(PreFilter, AnthropicMessagesOfEveryShapeMeterAsWithoutIt) {
  const AnthropicDialect dialect;
  constexpr std::string_view kText = R"({"type":"text","text":"abcd"})";
  const std::vector<std::string> bodies = {
      anthropicMessage(kText, kMessageUsage),
      // A tool call (its input's JSON length is simdjson's to measure), blocks that are not
      // objects, text of other types, a content that is not an array.
      anthropicMessage(
          std::string(kText) + R"(,{"type":"tool_use","id":"t","name":"f","input":{"a":[1, 2]} })",
          kMessageUsage),
      anthropicMessage(R"(7,null,{"type":"text","text":null},{"type":"text","text":["x"]})",
                       kMessageUsage),
      R"({"type":"message","content":"abcd","usage":{"output_tokens":3}})",
      // Without usage the estimate counts the text and the tool input's JSON.
      R"({"type":"message","content":[{"type":"text","text":"abcd"},{"type":"tool_use","id":"t","name":"f","input":{"query":"weather in Paris","days":[1, 2]} }],"stop_reason":"tool_use"})",
      R"({"type":"message","content":[{"type":"thinking","thinking":"abcdefgh"},{"type":"tool_use","input":"x" }]})",
      R"({"type":"message","content":[{"type":"thinking","thinking":"abcdefgh","signature":"s"},{"type":"text","text":"ab"}]})",
      // Counts: null, negative, fractional, strings; cache_creation absent, null, empty.
      anthropicMessage(kText, R"({"input_tokens":null,"output_tokens":-4,"cache_creation":null})"),
      anthropicMessage(kText, R"({"input_tokens":1.0,"output_tokens":4})"),
      anthropicMessage(kText, R"({"input_tokens":"1","output_tokens":4})"),
      anthropicMessage(kText, R"({"input_tokens":1,"output_tokens":4,"cache_creation":{}})"),
      anthropicMessage(kText, R"({"output_tokens":4,"service_tier":7})"),
      anthropicMessage(kText, R"({"output_tokens":4,"service_tier":"b\u0061tch"})"),
      // Usage that is not an object, twice, absent.
      anthropicMessage(kText, "null"),
      anthropicMessage(kText, std::string(kMessageUsage) + R"(,"usage":{"output_tokens":9})"),
      R"({"type":"message","content":[{"type":"text","text":"abcd"}],"stop_reason":"max_tokens"})",
      // The type: late, repeated, escaped, of another type, another event, an error.
      R"({"id":"m","content":[{"text":"abcd"}],"usage":{"output_tokens":3},"type":"message"})",
      R"({"type":"message","type":"message_delta","usage":{"output_tokens":3}})",
      R"({"type":"mess\u0061ge","usage":{"output_tokens":3}})",
      R"({"type":7,"usage":{"output_tokens":3}})",
      R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})",
      R"({"type":"message","error":{"type":"overloaded_error"},"usage":{"output_tokens":3}})",
      R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":5,"output_tokens":1}}})",
      // Stop reasons of other types, many; ids and models: first non-empty wins.
      R"({"type":"message","stop_reason":null,"stop_reason":"a","stop_reason":7,"stop_reason":"b","stop_sequence":"\n"})",
      R"({"type":"message","stop_reason":"1","stop_reason":"2","stop_reason":"3","stop_reason":"4","stop_reason":"5","stop_reason":"6","stop_reason":"7","stop_reason":"8","stop_reason":"9"})",
      R"({"type":"message","id":"","model":"","id":"m2","model":"c2","id":"m3","model":"c3"})",
      R"({"type":"message","id":"m\u0031","model":"c\/1"})",
      // Pretty-printed; not one well-formed object.
      "{\n \"type\" : \"message\" ,\n \"content\" : [ { \"text\" : \"abcd\" } ] ,\r\n"
      " \"usage\" : { \"input_tokens\" : 5 , \"output_tokens\" : 6 } }\n",
      anthropicMessage(kText, kMessageUsage) + "x",
      anthropicMessage(kText, kMessageUsage).substr(0, 100),
      R"({"type":"message","content":[{"text":"\xFF"}],"usage":{"output_tokens":3}})",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    meterBothWays(dialect, bodyInfo("chat"), kJson, body, true);
  }
}

}  // namespace
}  // namespace tollgate::meter
