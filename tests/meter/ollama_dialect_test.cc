#include "meter/ollama_dialect.h"

#include <gtest/gtest.h>

#include "dialect_test_support.h"

namespace tollgate::meter {
namespace {

using testing::meterAtEverySplit;
using testing::readFixture;
using testing::totalCost;

constexpr std::string_view kNdjson = "application/x-ndjson";
constexpr std::string_view kJson = "application/json; charset=utf-8";

RequestInfo llamaInfo(bool stream) {
  RequestInfo info;
  info.model = "llama3.2";
  info.operation = "chat";
  info.stream = stream;
  info.estimated_input_tokens = 30;
  return info;
}

// A self-hosted model's internal chargeback price: 0.10 in, 0.20 out per 1M tokens.
PriceEntry llama() {
  PriceEntry entry;
  entry.pattern = "llama3*";
  entry.price = testing::perMillion("0.10", "0.10", "0.10", "0.20");
  return entry;
}

TEST(OllamaInspectRequest, StreamsByDefaultAndEstimatesMessages) {
  const OllamaDialect dialect;
  RequestInfo info;
  // "why is the sky blue?" = 20 bytes -> 5 tokens + 4 for the message.
  ASSERT_FALSE(dialect.inspectRequest(
      "/api/chat",
      R"({"model":"llama3.2","messages":[{"role":"user","content":"why is the sky blue?"}]})",
      info));
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.operation, "chat");
  EXPECT_EQ(info.estimated_input_tokens, 9);
  ASSERT_FALSE(dialect.inspectRequest(
      "/api/generate", R"({"model":"llama3.2","prompt":"why is the sky blue?","stream":false})",
      info));
  EXPECT_FALSE(info.stream);
  EXPECT_EQ(info.operation, "text_completion");
  EXPECT_EQ(info.estimated_input_tokens, 9);
  auto err = dialect.inspectRequest("/api/chat", R"({"messages":[]})", info);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "missing_model");
  err = dialect.inspectRequest("/api/tags", "{}", info);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->status, 404);
}

TEST(OllamaInspectRequest, ReadsTheOutputCapFromOptionsNumPredict) {
  const OllamaDialect dialect;
  RequestInfo info;
  ASSERT_FALSE(dialect.inspectRequest(
      "/api/generate",
      R"({"model":"llama3.2","prompt":"hi","options":{"temperature":0,"num_predict":128}})", info));
  EXPECT_EQ(info.max_output_tokens, 128);
  // -1 (no limit) and -2 (fill the context) are no cap: the default applies.
  for (std::string_view body : {R"({"model":"m","prompt":"hi","options":{"num_predict":-1}})",
                                R"({"model":"m","prompt":"hi","options":{"num_predict":-2}})",
                                R"({"model":"m","prompt":"hi","num_predict":9})"}) {
    RequestInfo none;
    ASSERT_FALSE(dialect.inspectRequest("/api/generate", body, none)) << body;
    EXPECT_FALSE(none.max_output_tokens.has_value()) << body;
  }
}

TEST(OllamaErrorBody, HasOllamasShapeWithTheGatewayCode) {
  const OllamaDialect dialect;
  EXPECT_EQ(dialect.errorBody(404, "model_not_found", "no upstream serves model 'x'"),
            R"({"error":"no upstream serves model 'x'","code":"model_not_found"})");
}

TEST(OllamaMeter, NonStreamingDoneObjectCarriesTheCounts) {
  const OllamaDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, llamaInfo(false), 200, kJson, readFixture("ollama/chat.json"));
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 26, .output_tokens = 298}));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.response_model, "llama3.2");
  EXPECT_EQ(r.finish_reasons, std::vector<std::string>{"stop"});
  EXPECT_EQ(totalCost(llama(), r.usage), "0.0000622");  // 26 x 0.10 + 298 x 0.20
}

TEST(OllamaMeter, NdjsonStreamTakesTheCountsOfTheDoneLine) {
  const OllamaDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, llamaInfo(true), 200, kNdjson, readFixture("ollama/chat.ndjson"));
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 26, .output_tokens = 298}));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(totalCost(llama(), r.usage), "0.0000622");
  RequestInfo generate = llamaInfo(true);
  generate.operation = "text_completion";
  const auto g =
      meterAtEverySplit(dialect, generate, 200, kNdjson, readFixture("ollama/generate.ndjson"));
  EXPECT_EQ(g.usage, (Usage{.input_tokens = 26, .output_tokens = 290}));
}

TEST(OllamaMeter, StreamCutBeforeTheDoneLineIsEstimated) {
  const OllamaDialect dialect;
  const auto r = meterAtEverySplit(dialect, llamaInfo(true), 200, kNdjson,
                                   readFixture("ollama/chat_cut_before_usage.ndjson"), false);
  // "The" + " sky" + " is blue because of Rayleigh scattering." = 48 bytes -> 12 tokens.
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 30, .output_tokens = 12}));
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(totalCost(llama(), r.usage), "0.0000054");  // 30 x 0.10 + 12 x 0.20
}

TEST(OllamaMeter, ErrorLineMidStreamIsAnUpstreamError) {
  const OllamaDialect dialect;
  const auto r = meterAtEverySplit(dialect, llamaInfo(true), 200, kNdjson,
                                   readFixture("ollama/chat_error_midstream.ndjson"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.usage_source, UsageSource::kEstimated);
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 30, .output_tokens = 2}));  // "The sky": 7 bytes
  EXPECT_EQ(totalCost(llama(), r.usage), "0.0000034");
}

TEST(OllamaMeter, ErrorStatusBooksNoUsage) {
  const OllamaDialect dialect;
  const auto r =
      meterAtEverySplit(dialect, llamaInfo(true), 404, kJson, readFixture("ollama/error_404.json"));
  EXPECT_TRUE(r.upstream_error);
  EXPECT_EQ(r.usage_source, UsageSource::kNone);
}

TEST(OllamaMeter, OmittedPromptEvalCountMeansZeroInputTokens) {
  const OllamaDialect dialect;
  const auto r = meterAtEverySplit(dialect, llamaInfo(true), 200, kNdjson,
                                   readFixture("ollama/chat_prompt_cached.ndjson"));
  EXPECT_EQ(r.usage, (Usage{.input_tokens = 0, .output_tokens = 12}));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
}

}  // namespace
}  // namespace tollgate::meter
