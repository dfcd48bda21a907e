// Member order carries no meaning in JSON (RFC 8259): every dialect fixture, with the members of
// its objects permuted at every nesting level, must meter exactly as with the members in their
// recorded order, split at every byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dialect_test_support.h"
#include "json_member_permuter.h"
#include "meter/anthropic_dialect.h"
#include "meter/aws_event_stream_framer.h"
#include "meter/azure_openai_dialect.h"
#include "meter/bedrock_dialect.h"
#include "meter/crc32.h"
#include "meter/gemini_dialect.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::JsonMemberPermuter;
using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kSse = "text/event-stream";
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kNdjson = "application/x-ndjson";

const OpenAiDialect kOpenAi;
const AnthropicDialect kAnthropic;
const GeminiDialect kGemini;
const OllamaDialect kOllama;
const BedrockDialect kBedrock;
const AzureOpenAiDialect kAzureOpenAi;

struct Fixture {
  const char* path;
  const Dialect* dialect;
  const char* operation;
  bool stream;
  int status;
  std::string_view content_type;
  bool complete = true;
};

const Fixture kFixtures[] = {
    {"openai/chat_completion.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/embeddings.json", &kOpenAi, "embeddings", false, 200, kJson},
    {"openai/error_429.json", &kOpenAi, "chat", false, 429, kJson},
    {"openai/stream_error_midstream.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/stream_reasoning_with_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/stream_reasoning_without_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/stream_with_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/stream_without_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/deepseek_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/deepseek_stream_with_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/xai_chat_reasoning_outside_completion.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/xai_stream_reasoning_outside_completion.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/audio_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/audio_stream_with_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/groq_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/groq_stream_x_groq_usage.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/openrouter_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/openrouter_stream.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/mistral_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/mistral_stream.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/together_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/together_stream.sse", &kOpenAi, "chat", true, 200, kSse},
    {"openai/fireworks_chat.json", &kOpenAi, "chat", false, 200, kJson},
    {"openai/fireworks_stream.sse", &kOpenAi, "chat", true, 200, kSse},
    {"responses/web_search_response.json", &kOpenAi, "responses", false, 200, kJson},
    {"responses/web_search_stream.sse", &kOpenAi, "responses", true, 200, kSse},
    {"anthropic/stream_compaction_iterations.sse", &kAnthropic, "chat", true, 200, kSse},
    {"anthropic/stream_cache_read_in_start_only.sse", &kAnthropic, "chat", true, 200, kSse},
    {"anthropic/message_advisor.json", &kAnthropic, "chat", false, 200, kJson},
    {"anthropic/stream_advisor.sse", &kAnthropic, "chat", true, 200, kSse},
    {"gemini/grounded_generate.json", &kGemini, "generate_content", false, 200, kJson},
    {"gemini/grounded_stream.sse", &kGemini, "generate_content", true, 200, kSse},
    {"responses/error_429.json", &kOpenAi, "responses", true, 429, kJson},
    {"responses/response.json", &kOpenAi, "responses", false, 200, kJson},
    {"responses/stream.sse", &kOpenAi, "responses", true, 200, kSse},
    {"responses/stream_cut_before_usage.sse", &kOpenAi, "responses", true, 200, kSse, false},
    {"responses/stream_error_midstream.sse", &kOpenAi, "responses", true, 200, kSse},
    {"responses/stream_failed.sse", &kOpenAi, "responses", true, 200, kSse},
    {"responses/stream_incomplete.sse", &kOpenAi, "responses", true, 200, kSse},
    {"responses/stream_xai_type_not_first.sse", &kOpenAi, "responses", true, 200, kSse},
    {"anthropic/error_529.json", &kAnthropic, "chat", true, 529, kJson},
    {"anthropic/message.json", &kAnthropic, "chat", false, 200, kJson},
    {"anthropic/stream.sse", &kAnthropic, "chat", true, 200, kSse},
    {"anthropic/stream_cut_before_usage.sse", &kAnthropic, "chat", true, 200, kSse, false},
    {"anthropic/stream_error_midstream.sse", &kAnthropic, "chat", true, 200, kSse},
    {"anthropic/stream_server_tools.sse", &kAnthropic, "chat", true, 200, kSse},
    {"gemini/error_429.json", &kGemini, "generate_content", false, 429, kJson},
    {"gemini/generate.json", &kGemini, "generate_content", false, 200, kJson},
    {"gemini/stream.json", &kGemini, "generate_content", true, 200, kJson},
    {"gemini/stream.sse", &kGemini, "generate_content", true, 200, kSse},
    {"gemini/stream_cut_before_usage.json", &kGemini, "generate_content", true, 200, kJson, false},
    {"gemini/stream_cut_before_usage.sse", &kGemini, "generate_content", true, 200, kSse, false},
    {"gemini/stream_error_midstream.json", &kGemini, "generate_content", true, 200, kJson},
    {"gemini/stream_error_midstream.sse", &kGemini, "generate_content", true, 200, kSse},
    {"ollama/chat.json", &kOllama, "chat", false, 200, kJson},
    {"ollama/chat.ndjson", &kOllama, "chat", true, 200, kNdjson},
    {"ollama/chat_cut_before_usage.ndjson", &kOllama, "chat", true, 200, kNdjson, false},
    {"ollama/chat_error_midstream.ndjson", &kOllama, "chat", true, 200, kNdjson},
    {"ollama/chat_prompt_cached.ndjson", &kOllama, "chat", true, 200, kNdjson},
    {"ollama/error_404.json", &kOllama, "chat", true, 404, kJson},
    {"ollama/generate.ndjson", &kOllama, "text_completion", true, 200, kNdjson},
    {"bedrock/converse.json", &kBedrock, "chat", false, 200, kJson},
    {"bedrock/converse_tool_use.json", &kBedrock, "chat", false, 200, kJson},
    {"bedrock/invoke_anthropic.json", &kBedrock, "chat", false, 200, kJson},
    {"bedrock/error_throttling.json", &kBedrock, "chat", false, 429, kJson},
    {"bedrock/error_validation_typed.json", &kBedrock, "chat", false, 400, kJson},
    {"azure/chat_completion.json", &kAzureOpenAi, "chat", false, 200, kJson},
    {"azure/stream_with_usage.sse", &kAzureOpenAi, "chat", true, 200, kSse},
};

// The AWS event stream is binary: each message's JSON payload is permuted and the message
// re-encoded with its string headers and fresh CRCs.
std::string bigEndian32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string encodeEvent(const AwsEventStreamMessage& m, std::string_view payload) {
  std::string headers;
  auto add = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    headers.push_back(static_cast<char>(name.size()));
    headers.append(name);
    headers.push_back(7);
    headers.push_back(static_cast<char>(value.size() >> 8));
    headers.push_back(static_cast<char>(value.size() & 0xFF));
    headers.append(value);
  };
  add(":event-type", m.event_type);
  add(":exception-type", m.exception_type);
  add(":content-type", m.content_type);
  add(":message-type", m.message_type);
  std::string out = bigEndian32(static_cast<uint32_t>(16 + headers.size() + payload.size())) +
                    bigEndian32(static_cast<uint32_t>(headers.size()));
  out += bigEndian32(crc32(0, out));
  out += headers;
  out += payload;
  out += bigEndian32(crc32(0, out));
  return out;
}

std::string permuteEventStream(std::string_view stream, uint64_t seed, bool& reorderable) {
  AwsEventStreamFramer framer;
  std::string out;
  framer.feed(stream, [&](const AwsEventStreamMessage& m) {
    JsonMemberPermuter permuter(seed);
    const auto payload = permuter.permute(m.payload);
    reorderable |= permuter.sawReorderable();
    out += encodeEvent(m, payload ? std::string_view(*payload) : m.payload);
  });
  framer.finish();
  EXPECT_EQ(framer.faults().total(), 0u);
  return out;
}

const char* const kEventStreams[] = {
    "bedrock/converse_stream.bin", "bedrock/converse_stream_exception.bin",
    "bedrock/converse_stream_tool_use.bin", "bedrock/invoke_stream_anthropic.bin"};

RequestInfo infoFor(const Fixture& f) {
  RequestInfo info;
  info.model = "model-under-test";
  info.operation = f.operation;
  info.stream = f.stream;
  info.client_asked_usage = f.stream;
  info.estimated_input_tokens = 11;
  return info;
}

constexpr uint64_t kSeeds[] = {1, 2, 3, 0xC0FFEE};

TEST(MemberOrder, EveryFixtureMetersTheSameWithItsMembersPermuted) {
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.path);
    const std::string original = readFixture(f.path);
    const RequestInfo info = infoFor(f);
    JsonMemberPermuter identity(0);
    const std::string normalized = identity.permuteBody(original);
    ASSERT_FALSE(identity.sawDuplicateKeys());
    const MeterResult expected =
        meterAtEverySplit(*f.dialect, info, f.status, f.content_type, normalized, f.complete);
    int changed = 0;
    for (uint64_t seed : kSeeds) {
      JsonMemberPermuter permuter(seed);
      const std::string permuted = permuter.permuteBody(original);
      ASSERT_EQ(permuted.size(), normalized.size()) << "seed " << seed;
      if (permuted != normalized) ++changed;
      const MeterResult r =
          meterAtEverySplit(*f.dialect, info, f.status, f.content_type, permuted, f.complete);
      testing::expectSameResult(r, expected, "seed " + std::to_string(seed));
      if (::testing::Test::HasFailure()) return;
    }
    // Only a fixture whose objects all have one member may come out unchanged.
    if (identity.sawReorderable()) {
      EXPECT_GT(changed, 0);
    }
  }
}

TEST(MemberOrder, EveryEventStreamFixtureMetersTheSameWithItsPayloadMembersPermuted) {
  RequestInfo info;
  info.operation = "chat";
  info.stream = true;
  info.estimated_input_tokens = 11;
  for (const char* path : kEventStreams) {
    SCOPED_TRACE(path);
    const std::string original = readFixture(path);
    bool reorderable = false;
    const std::string normalized = permuteEventStream(original, 0, reorderable);
    EXPECT_TRUE(reorderable);
    const MeterResult expected =
        meterAtEverySplit(kBedrock, info, 200, "application/vnd.amazon.eventstream", normalized);
    int changed = 0;
    for (uint64_t seed : kSeeds) {
      const std::string permuted = permuteEventStream(original, seed, reorderable);
      if (permuted != normalized) ++changed;
      const MeterResult r =
          meterAtEverySplit(kBedrock, info, 200, "application/vnd.amazon.eventstream", permuted);
      testing::expectSameResult(r, expected, "seed " + std::to_string(seed));
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_GT(changed, 0);
  }
}

TEST(MemberOrder, WhitespaceRemovalKeepsProviderUsage) {
  // The property test compares permutations with the re-serialized fixture: that one must still
  // read as the recorded fixture does, or the comparison would hide a reader that fails on both.
  for (const Fixture& f : kFixtures) {
    SCOPED_TRACE(f.path);
    const std::string original = readFixture(f.path);
    const RequestInfo info = infoFor(f);
    const std::string normalized = JsonMemberPermuter(0).permuteBody(original);
    const MeterResult a =
        meterAtEverySplit(*f.dialect, info, f.status, f.content_type, original, f.complete);
    const MeterResult b =
        meterAtEverySplit(*f.dialect, info, f.status, f.content_type, normalized, f.complete);
    EXPECT_EQ(a.usage_source, b.usage_source);
    if (a.usage_source == UsageSource::kProvider) {
      EXPECT_EQ(a.usage, b.usage);
    }
    EXPECT_EQ(a.error_type, b.error_type);
    EXPECT_EQ(a.response_id, b.response_id);
  }
}

TEST(MemberOrder, PermuterKeepsScalarsAndArrayOrder) {
  JsonMemberPermuter identity(0);
  EXPECT_EQ(identity.permute(R"( {"a" : [1, "x\"y", {"b":null}], "c":-1.5e3} )"),
            R"({"a":[1,"x\"y",{"b":null}],"c":-1.5e3})");
  EXPECT_FALSE(identity.permute(R"({"a":1} {"b":2})").has_value());
  EXPECT_FALSE(identity.permute(R"({"a":})").has_value());
  EXPECT_FALSE(identity.permute("[DONE]").has_value());
  EXPECT_FALSE(identity.permute("{\"a\":\"\xC3\x28\"}").has_value());  // not UTF-8
  // Not JSON, so not compared: an unknown escape, a lone surrogate, numbers RFC 8259 refuses.
  EXPECT_FALSE(identity.permute(R"({"a":"x\sy"})").has_value());
  EXPECT_FALSE(identity.permute(R"({"a":"\ud800"})").has_value());
  EXPECT_FALSE(identity.permute(R"({"a":"\udc00"})").has_value());
  EXPECT_EQ(identity.permute(R"({"a":"\ud83d\ude00\u00e9\n"})"), R"({"a":"\ud83d\ude00\u00e9\n"})");
  for (const char* bad : {"01", "1.", "-", "1e", ".5", "+1", "1-2", "tru"}) {
    EXPECT_FALSE(identity.permute(std::string(R"({"a":)") + bad + "}").has_value()) << bad;
  }
  EXPECT_EQ(identity.permute(R"({"a":-0.5e+3})"), R"({"a":-0.5e+3})");
  // A duplicate name in any line of a body is seen (a reader's choice between the two would
  // make the property meaningless there).
  JsonMemberPermuter lines(0);
  lines.permuteBody("data: {\"a\":1,\"a\":2}\n\ndata: {\"b\":1}\n\n");
  EXPECT_TRUE(lines.sawDuplicateKeys());
  // Some seed must reorder a two-member object, else the property test tests nothing.
  bool reordered = false;
  for (uint64_t seed : kSeeds) {
    reordered |= JsonMemberPermuter(seed).permute(R"({"a":1,"b":{"c":2,"d":3}})") !=
                 R"({"a":1,"b":{"c":2,"d":3}})";
  }
  EXPECT_TRUE(reordered);
}

// Regression (issue 15, defect 1): xAI sends Responses API events with "sequence_number" before
// "type". The meter took every event not starting with "type" for a whole response, found no
// usage in it and booked the request's estimate: 11 input, 0 output tokens, "estimated".
RequestInfo xaiInfo() {
  RequestInfo info;
  info.model = "grok-4";
  info.operation = "responses";
  info.stream = true;
  info.client_asked_usage = true;
  info.estimated_input_tokens = 11;
  return info;
}

// Prices for the test (not a catalog entry): 3.00 input, 0.75 cached input, 15.00 output
// (reasoning too), per 1M tokens.
PriceEntry grok4() {
  PriceEntry entry;
  entry.pattern = "grok-4*";
  entry.price = testing::perMillion("3.00", "0.75", "3.00", "15.00");
  return entry;
}

TEST(MemberOrderRegression, ResponsesEventWithTypeAfterSequenceNumberIsMetered) {
  const auto r = meterAtEverySplit(kOpenAi, xaiInfo(), 200, kSse,
                                   readFixture("responses/stream_xai_type_not_first.sse"));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 216,
                            .cache_read_tokens = 192,
                            .output_tokens = 923,
                            .reasoning_tokens = 323}));
  EXPECT_EQ(r.response_model, "grok-4-0709");
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"completed"});
  // 24 x 3.00 + 192 x 0.75 + 923 x 15.00, per 1M tokens.
  EXPECT_EQ(totalCost(grok4(), r.usage), "0.014061");
}

TEST(MemberOrder, ResponsesEventTypedOnlyByItsSseEventNameIsMetered) {
  const std::string body =
      "event: response.output_text.delta\n"
      "data: {\"sequence_number\":1,\"delta\":\"Paris.\"}\n\n"
      "event: response.completed\n"
      "data: {\"sequence_number\":2,\"response\":{\"status\":\"completed\",\"usage\":"
      "{\"input_tokens\":20,\"output_tokens\":4,\"total_tokens\":24}}}\n\n";
  const auto r = meterAtEverySplit(kOpenAi, xaiInfo(), 200, kSse, body);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 20, .output_tokens = 4}));
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"completed"});
}

TEST(MemberOrder, ResponsesTypeMemberWinsOverTheSseEventName) {
  // The data names itself; an event line that disagrees does not make it terminal.
  const std::string body =
      "event: response.completed\n"
      "data: {\"response\":{\"usage\":{\"input_tokens\":20,\"output_tokens\":4}},"
      "\"type\":\"response.in_progress\"}\n\n";
  const auto r = meterAtEverySplit(kOpenAi, xaiInfo(), 200, kSse, body, false);
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
}

TEST(MemberOrder, ResponsesErrorEventWithCodeBeforeTypeKeepsTheCode) {
  const std::string body =
      "event: error\n"
      "data: {\"sequence_number\":3,\"code\":\"server_error\",\"message\":\"boom\","
      "\"type\":\"error\"}\n\n";
  const auto r = meterAtEverySplit(kOpenAi, xaiInfo(), 200, kSse, body);
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.error_type, "server_error");
}

}  // namespace
}  // namespace tollgate::meter

namespace tollgate::meter {
namespace {

// Fuzz findings of fuzz_member_order once the usage bounds were merged (2026-12-05).
RequestInfo anthropicStream() {
  RequestInfo info;
  info.model = "claude-sonnet-4";
  info.operation = "chat";
  info.stream = true;
  info.client_asked_usage = true;
  info.estimated_input_tokens = 7;
  return info;
}

TEST(MemberOrderRegression, EventWithInvalidUtf8IsJudgedLikeAnyOtherWhateverItsMemberOrder) {
  const AnthropicDialect dialect;
  // One event's data: a broken text line with an invalid byte, then an error object (an
  // invalid document). The old fallback searched such text for usage-shaped members, and what
  // it found depended on the order of the error object's members.
  auto stream = [](std::string_view error_object) {
    return std::string(
               "event: content_block_delta\ndata: {\"error\":{\"pe\":\"x\",\"text\":\"H\x9b\"\n"
               "data: ") +
           std::string(error_object) + "\n\n";
  };
  const auto a = meterAtEverySplit(
      dialect, anthropicStream(), 200, "text/event-stream",
      stream(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  const auto b = meterAtEverySplit(
      dialect, anthropicStream(), 200, "text/event-stream",
      stream(R"({"error":{"message":"Overloaded","type":"overloaded_error"},"type":"error"})"));
  testing::expectSameResult(a, b, "members permuted");
}

TEST(MemberOrderRegression, TypeThatIsNotAStringDoesNotHideTheMembersAfterIt) {
  const AnthropicDialect dialect;
  // A stream cut before its usage: the output is estimated from the text relayed, which must
  // count the same whether "type" (here a number) came before the delta or after it.
  const std::string start =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
      "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n";
  const auto a = meterAtEverySplit(
      dialect, anthropicStream(), 200, "text/event-stream",
      start +
          "event: content_block_delta\ndata: {\"type\":0,\"delta\":{\"type\":\"text_delta\","
          "\"text\":\"hello there, a long enough text\"}}\n\n",
      false);
  const auto b = meterAtEverySplit(
      dialect, anthropicStream(), 200, "text/event-stream",
      start +
          "event: content_block_delta\ndata: {\"delta\":{\"type\":\"text_delta\",\"text\":"
          "\"hello there, a long enough text\"},\"type\":0}\n\n",
      false);
  testing::expectSameResult(a, b, "type first or last");
  EXPECT_GT(a.usage.output_tokens, 0);
}

}  // namespace
}  // namespace tollgate::meter
