// Every billed unit the dialects read besides text tokens (docs/metering.md, "Line items"):
// Anthropic's iterations (compaction steps, advisor sub-inferences on another model), server
// tool requests and thinking tokens; OpenAI's audio and image tokens; the Responses API's web
// search and file search calls; Gemini's modalities and grounded prompts; and usage members
// nobody knows. Each fixture follows the provider's documented format and is metered whole and
// split at every byte, with the raw-byte readers on and off, with exact money.
#include <gtest/gtest.h>

#include "dialect_test_support.h"
#include "meter/anthropic_dialect.h"
#include "meter/coster.h"
#include "meter/gemini_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::meterBothWays;
using testing::readFixture;

constexpr std::string_view kSse = "text/event-stream";
constexpr std::string_view kJson = "application/json";

RequestInfo info(std::string model, std::string operation, bool stream) {
  RequestInfo r;
  r.model = std::move(model);
  r.operation = std::move(operation);
  r.stream = stream;
  r.client_asked_usage = true;
  r.estimated_input_tokens = 10;
  return r;
}

Usage tokens(int64_t input, int64_t cache_read, int64_t cache_write, int64_t output,
             int64_t reasoning = 0) {
  return Usage{.input_tokens = input,
               .cache_read_tokens = cache_read,
               .cache_write_tokens = cache_write,
               .output_tokens = output,
               .reasoning_tokens = reasoning};
}

// Test prices (not the catalog's): Sonnet 4.6 and Opus 4.6 as Anthropic lists them (USD per 1M
// tokens: 3 / 0.30 / 3.75 / 15 and 5 / 0.50 / 6.25 / 25), web search $10 per 1,000 requests,
// web fetch without a charge of its own.
PriceBook anthropicBook() {
  Price sonnet = testing::perMillion("3.00", "0.30", "3.75", "15.00");
  sonnet.unit[index(Unit::kWebSearchRequests)] = *parsePerThousandPrice("10.00");
  sonnet.unit[index(Unit::kWebFetchRequests)] = *parsePerThousandPrice("0");
  const Price opus = testing::perMillion("5.00", "0.50", "6.25", "25.00");
  return PriceBook("test", {{"claude-sonnet-4-6", sonnet}, {"claude-opus-4-6", opus}});
}

// The cost for what the meter read, as the gateway prices it (meter/coster.h).
Costed priced(const PriceBook& book, const MeterResult& r, std::string_view model) {
  Usage usage = r.usage;
  CostInput input;
  input.model = model;
  input.other_models = r.other_models;
  return TokenCoster(book).cost(input, usage);
}

TEST(AnthropicIterations, CompactionStepsAreBilledBesideTheMessage) {
  // Top level 612 in / 2,819 out; the compaction step (60,385 / 522) is only in iterations.
  const auto r = meterBothWays(AnthropicDialect{}, info("claude-sonnet-4-6", "chat", true), kSse,
                               readFixture("anthropic/stream_compaction_iterations.sse"));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage, tokens(60'385 + 612, 0, 0, 522 + 2'819));
  // 60,997 x 3 + 3,341 x 15 per 1M.
  EXPECT_EQ(priced(anthropicBook(), r, "claude-sonnet-4-6").cost.total.toDecimalString(),
            "0.233106");
}

TEST(AnthropicIterations, MessageDeltaDoesNotEraseTheCacheCountsOfMessageStart) {
  // message_start: 3 + 1,200 written + 55,096 read; message_delta repeats the input side as 0.
  const auto r = meterBothWays(AnthropicDialect{}, info("claude-sonnet-4-6", "chat", true), kSse,
                               readFixture("anthropic/stream_cache_read_in_start_only.sse"));
  // Thinking tokens (output_tokens_details) are the reasoning part of the output.
  EXPECT_EQ(r.usage, tokens(3 + 1'200 + 55'096, 55'096, 1'200, 420, 180));
  // 3 x 3 + 55,096 x 0.30 + 1,200 x 3.75 + 420 x 15 per 1M.
  EXPECT_EQ(priced(anthropicBook(), r, "claude-sonnet-4-6").cost.total.toDecimalString(),
            "0.0273378");
}

TEST(AnthropicIterations, AdvisorStepsArePricedAtTheAdvisorModel) {
  for (const auto& [fixture, stream, type] :
       {std::tuple{"anthropic/message_advisor.json", false, kJson},
        std::tuple{"anthropic/stream_advisor.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r = meterBothWays(AnthropicDialect{}, info("claude-sonnet-4-6", "chat", stream),
                                 type, readFixture(fixture));
    Usage executor = tokens(1'200, 0, 0, 800);
    if (!stream) {
      executor[Unit::kWebSearchRequests] = 2;
      executor[Unit::kWebFetchRequests] = 1;
    }
    EXPECT_EQ(r.usage, executor);
    ASSERT_EQ(r.other_models.size(), 1u);
    EXPECT_EQ(r.other_models[0].model, "claude-opus-4-6");
    EXPECT_EQ(r.other_models[0].usage, tokens(1'500, 0, 0, 1'600));
    const Costed event = priced(anthropicBook(), r, "claude-sonnet-4-6");
    // Advisor: 1,500 x 5 + 1,600 x 25 per 1M, at Opus's price.
    EXPECT_EQ(event.cost.other_models.toDecimalString(), "0.0475");
    // Executor: 1,200 x 3 + 800 x 15 per 1M; two searches at $0.01 each, a free fetch.
    EXPECT_EQ(event.cost.total.toDecimalString(), stream ? "0.0631" : "0.0831");
    EXPECT_EQ(event.usage_flags, 0u);
  }
}

TEST(AnthropicUsage, AnUnknownBillableMemberIsCountedNotPriced) {
  const std::string body =
      R"({"id":"msg_1","type":"message","model":"claude-sonnet-4-6","content":[],)"
      R"("usage":{"input_tokens":10,"output_tokens":2,"inference_geo":"us","speed":"standard",)"
      R"("memory_requests":4,"zero_tokens":0}})";
  const auto r =
      meterBothWays(AnthropicDialect{}, info("claude-sonnet-4-6", "chat", false), kJson, body);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 10, .output_tokens = 2, .unknown_units = 1}));
  EXPECT_EQ(priced(anthropicBook(), r, "claude-sonnet-4-6").usage_flags, kUsageUnknownUnits);
}

// gpt-4o-audio-preview as OpenAI lists it (USD per 1M tokens): text 2.50 / 10.00, audio
// 40.00 / 80.00.
PriceEntry gpt4oAudio() {
  PriceEntry entry;
  entry.pattern = "gpt-4o-audio-preview*";
  entry.price = testing::perMillion("2.50", "1.25", "2.50", "10.00");
  entry.price.unit[index(Unit::kAudioInputTokens)] = *parsePerMillionPrice("40.00");
  entry.price.unit[index(Unit::kAudioOutputTokens)] = *parsePerMillionPrice("80.00");
  return entry;
}

TEST(OpenAiAudio, AudioTokensArePricedAtTheAudioPriceWholeAndStreamed) {
  Usage expected = tokens(1'000, 0, 0, 500);
  expected[Unit::kAudioInputTokens] = 600;
  expected[Unit::kAudioOutputTokens] = 400;
  for (const auto& [fixture, stream, type] :
       {std::tuple{"openai/audio_chat.json", false, kJson},
        std::tuple{"openai/audio_stream_with_usage.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r = meterBothWays(OpenAiDialect{}, info("gpt-4o-audio-preview", "chat", stream),
                                 type, readFixture(fixture));
    EXPECT_EQ(r.usage, expected);
    // 400 text x 2.50 + 600 audio x 40 in; 100 text x 10 + 400 audio x 80 out, per 1M.
    EXPECT_EQ(testing::totalCost(gpt4oAudio(), r.usage), "0.058");
  }
}

TEST(OpenAiUsage, ImageTokensAndUnknownCountsAreRead) {
  const std::string body =
      R"({"id":"c1","object":"chat.completion","model":"gpt-image-1","choices":[],"usage":{)"
      R"("prompt_tokens":50,"completion_tokens":4160,"total_tokens":4210,)"
      R"("prompt_tokens_details":{"cached_tokens":0,"text_tokens":30,"image_tokens":20},)"
      R"("completion_tokens_details":{"reasoning_tokens":0,"image_tokens":4160},)"
      R"("live_search_calls":3}})";
  const auto r = meterBothWays(OpenAiDialect{}, info("gpt-image-1", "chat", false), kJson, body);
  Usage expected = tokens(50, 0, 0, 4'160);
  expected[Unit::kImageInputTokens] = 20;
  expected[Unit::kImageOutputTokens] = 4'160;
  expected.unknown_units = 1;
  EXPECT_EQ(r.usage, expected);
}

// gpt-4.1 as OpenAI lists it: 2.00 / 0.50 / 8.00 per 1M tokens; web search $10 and file
// search $2.50 per 1,000 calls.
PriceEntry gpt41Tools() {
  PriceEntry entry;
  entry.pattern = "gpt-4.1*";
  entry.price = testing::perMillion("2.00", "0.50", "2.00", "8.00");
  entry.price.unit[index(Unit::kWebSearchRequests)] = *parsePerThousandPrice("10.00");
  entry.price.unit[index(Unit::kFileSearchCalls)] = *parsePerThousandPrice("2.50");
  return entry;
}

TEST(ResponsesTools, WebSearchAndFileSearchCallsAreCountedWholeAndStreamed) {
  Usage expected = tokens(3'000, 0, 0, 400);
  expected[Unit::kWebSearchRequests] = 2;
  expected[Unit::kFileSearchCalls] = 1;
  for (const auto& [fixture, stream, type] :
       {std::tuple{"responses/web_search_response.json", false, kJson},
        std::tuple{"responses/web_search_stream.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r = meterBothWays(OpenAiDialect{}, info("gpt-4.1", "responses", stream), type,
                                 readFixture(fixture));
    EXPECT_EQ(r.usage_source, UsageSource::kProvider);
    EXPECT_EQ(r.usage, expected);
    // 3,000 x 2 + 400 x 8 per 1M, two searches at $0.01, one file search at $0.0025.
    EXPECT_EQ(testing::totalCost(gpt41Tools(), r.usage), "0.0317");
  }
}

// gemini-2.5-flash as Google lists it: text 0.30 in, audio 1.00 in, 2.50 out per 1M tokens;
// grounding with Google Search $35 per 1,000 grounded prompts.
PriceEntry geminiFlash() {
  PriceEntry entry;
  entry.pattern = "gemini-2.5-flash";
  entry.price = testing::perMillion("0.30", "0.03", "0.30", "2.50");
  entry.price.unit[index(Unit::kAudioInputTokens)] = *parsePerMillionPrice("1.00");
  entry.price.unit[index(Unit::kGroundingRequests)] = *parsePerThousandPrice("35.00");
  return entry;
}

TEST(GeminiUnits, AudioPromptTokensAndAGroundedPromptAreLineItemsWholeAndStreamed) {
  Usage expected = tokens(1'000, 0, 0, 200);
  expected[Unit::kAudioInputTokens] = 600;
  expected[Unit::kGroundingRequests] = 1;
  for (const auto& [fixture, stream, type] :
       {std::tuple{"gemini/grounded_generate.json", false, kJson},
        std::tuple{"gemini/grounded_stream.sse", true, kSse}}) {
    SCOPED_TRACE(fixture);
    const auto r = meterBothWays(GeminiDialect{}, info("gemini-2.5-flash", "chat", stream), type,
                                 readFixture(fixture));
    EXPECT_EQ(r.usage_source, UsageSource::kProvider);
    EXPECT_EQ(r.usage, expected);
    // 400 x 0.30 + 600 x 1.00 + 200 x 2.50 per 1M, one grounded prompt at $0.035.
    EXPECT_EQ(testing::totalCost(geminiFlash(), r.usage), "0.03622");
  }
}

}  // namespace
}  // namespace tollgate::meter
