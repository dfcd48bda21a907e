// Regression tests named after metering failures seen in other gateways, across dialects, plus
// the OpenAI-compatible self-hosted servers (vLLM, llama.cpp, servers that send no usage).
#include <gtest/gtest.h>

#include "dialect_test_support.h"
#include "meter/ollama_dialect.h"
#include "meter/openai_dialect.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;

constexpr std::string_view kSse = "text/event-stream";

RequestInfo chatStream(bool gateway_asked) {
  RequestInfo info;
  info.model = "gpt-4o-mini";
  info.operation = "chat";
  info.stream = true;
  info.client_asked_usage = !gateway_asked;
  info.gateway_asked_usage = gateway_asked;
  info.estimated_input_tokens = 21;
  return info;
}

PriceEntry gpt4oMini() {
  PriceEntry entry;
  entry.pattern = "gpt-4o-mini*";
  entry.price = testing::perMillion("0.15", "0.075", "0.15", "0.60");
  return entry;
}

TEST(Regression, StreamedCallsAreNotBookedAtZero) {
  // The client did not ask for usage: the gateway asks, hides it, and books it.
  const OpenAiDialect dialect;
  const std::string body = readFixture("openai/stream_with_usage.sse");
  auto meter = dialect.newResponseMeter(chatStream(true), 200, kSse);
  meter->onBody(body);
  meter->onEnd(true);
  const MeterResult r = meter->result();
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage.input_tokens, 19);
  EXPECT_EQ(r.usage.output_tokens, 16);
  EXPECT_NE(computeCost(gpt4oMini(), r.usage).total, Money{});
}

TEST(Regression, OpenAiCachedTokensAreNotBilledAtTheFullInputPrice) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, chatStream(false), 200, kSse,
                                   readFixture("openai/stream_reasoning_with_usage.sse"));
  ASSERT_EQ(r.usage.cache_read_tokens, 1152);
  const CostBreakdown cost = computeCost(gpt4oMini(), r.usage);
  EXPECT_EQ(cost.input.pico(), int64_t{1254 - 1152} * 150'000);
  EXPECT_EQ(cost.cache_read.pico(), int64_t{1152} * 75'000);
}

TEST(SelfHosted, VllmContinuousUsageStatsTakeTheLastChunkNotTheSum) {
  const OpenAiDialect dialect;
  std::string body;
  for (int i = 1; i <= 3; ++i) {
    body +=
        R"(data: {"id":"cmpl-1","object":"chat.completion.chunk","model":"meta-llama/Llama-3.1-8B","choices":[{"index":0,"delta":{"content":"ab"},"finish_reason":null}],"usage":{"prompt_tokens":12,"completion_tokens":)" +
        std::to_string(i) + R"(,"total_tokens":)" + std::to_string(12 + i) + "}}\n\n";
  }
  body += "data: [DONE]\n\n";
  const auto r = meterAtEverySplit(dialect, chatStream(false), 200, kSse, body);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 12, .output_tokens = 3}));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

TEST(SelfHosted, LlamaCppTimingsAreUsedWhenNoUsageObjectArrives) {
  const OpenAiDialect dialect;
  const std::string body =
      R"(data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"model":"qwen2.5","object":"chat.completion.chunk"})"
      "\n\n"
      R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"model":"qwen2.5","object":"chat.completion.chunk","timings":{"prompt_n":7,"prompt_ms":20.1,"predicted_n":9,"predicted_ms":80.5,"cache_n":30}})"
      "\n\ndata: [DONE]\n\n";
  const auto r = meterAtEverySplit(dialect, chatStream(false), 200, kSse, body);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 37, .cache_read_tokens = 30, .output_tokens = 9}));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

TEST(SelfHosted, AServerThatSendsNoUsageIsEstimatedNotBookedAtZero) {
  const OpenAiDialect dialect;
  const auto r = meterAtEverySplit(dialect, chatStream(true), 200, kSse,
                                   readFixture("openai/stream_without_usage.sse"));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage.input_tokens, 21);
  EXPECT_GT(r.usage.output_tokens, 0);
}

TEST(OpenAiInspectRequest, ServiceTierSelectsThePriceVariant) {
  const OpenAiDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(dialect.inspectRequest("/v1/chat/completions",
                                      R"({"model":"gpt-5","service_tier":"priority"})", info));
  EXPECT_EQ(info.service_tier, "priority");
  ASSERT_FALSE(dialect.inspectRequest("/v1/chat/completions",
                                      R"({"model":"gpt-5","service_tier":"auto"})", info));
  EXPECT_EQ(info.service_tier, "");
}

// Found by fuzz_ollama_dialect: simdjson may read into the padding of a malformed document, and
// the reused buffer's padding held the bytes of the previous document, so the same bytes were
// metered differently depending on what came before.
TEST(Regression, MalformedDocumentsAreMeteredAlikeWhateverWasParsedBefore) {
  const OllamaDialect dialect;
  RequestInfo info = chatStream(false);
  const std::string body = readFixture("ollama/fuzz_malformed_lines.ndjson");
  auto meterAfter = [&](char filler) {
    auto primer = dialect.newResponseMeter(info, 200, "application/x-ndjson");
    primer->onBody("{\"message\":{\"content\":\"" + std::string(4096, filler) + "\"}}\n");
    primer->onEnd(true);
    auto meter = dialect.newResponseMeter(info, 200, "application/x-ndjson");
    meter->onBody(body);
    meter->onEnd(true);
    return meter->result();
  };
  const MeterResult a = meterAfter('"');
  const MeterResult b = meterAfter('a');
  EXPECT_EQ(a.usage, b.usage);
  EXPECT_EQ(a.usage.output_tokens, 2);  // "The}," read before the line turns malformed
}

}  // namespace
}  // namespace tollgate::meter
