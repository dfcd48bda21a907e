// Azure OpenAI through its own paths: the request names the deployment, the answers are
// OpenAI's with Azure's content-filter additions (a first stream chunk with no choices and an
// empty model, filter verdicts on choices and a late chunk with only a filter verdict).
#include "meter/azure_openai_dialect.h"

#include <gtest/gtest.h>

#include "dialect_test_support.h"

namespace tollgate::meter {
namespace {

using testing::feed;
using testing::readFixture;

constexpr std::string_view kSse = "text/event-stream";
constexpr std::string_view kJson = "application/json";
constexpr std::string_view kChatPath = "/openai/deployments/prod-chat/chat/completions";

// 1542 prompt tokens (1280 cached) and 9 completion tokens, as the fixtures report them.
const Usage kFixtureUsage{.input_tokens = 1542, .cache_read_tokens = 1280, .output_tokens = 9};

RequestInfo inspected(std::string_view path, std::string_view body) {
  RequestInfo info;
  const auto error = AzureOpenAiDialect{}.inspectRequest(path, body, info);
  EXPECT_FALSE(error) << (error ? error->message : "");
  return info;
}

TEST(AzureOpenAiDialect, DeploymentPathNamesTheModelAndTheBodyNeedsNone) {
  const RequestInfo info =
      inspected(kChatPath, R"({"messages":[{"role":"user","content":"hi"}],"stream":true})");
  EXPECT_EQ(info.model, "prod-chat");
  EXPECT_EQ(info.operation, "chat");
  EXPECT_TRUE(info.stream);
}

TEST(AzureOpenAiDialect, DeploymentPathWinsOverTheBodyModel) {
  // Azure serves the path's deployment whatever the body says: that is what runs and is billed.
  const RequestInfo info = inspected("/openai/deployments/team%2Da/embeddings",
                                     R"({"model":"something-else","input":"abc"})");
  EXPECT_EQ(info.model, "team-a");
  EXPECT_EQ(info.operation, "embeddings");
}

TEST(AzureOpenAiDialect, V1ApiTakesTheDeploymentFromTheBodyModel) {
  RequestInfo info =
      inspected("/openai/v1/chat/completions", R"({"model":"prod-chat","messages":[]})");
  EXPECT_EQ(info.model, "prod-chat");
  info = inspected("/openai/v1/responses", R"({"model":"prod-resp","input":"hi"})");
  EXPECT_EQ(info.model, "prod-resp");
  EXPECT_EQ(info.operation, "responses");
}

TEST(AzureOpenAiDialect, V1ApiWithoutModelIsRefused) {
  RequestInfo info;
  const auto error = AzureOpenAiDialect{}.inspectRequest("/openai/v1/chat/completions",
                                                         R"({"messages":[]})", info);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "missing_model");
}

TEST(AzureOpenAiDialect, UnservedAzurePathIsUnknownEndpoint) {
  RequestInfo info;
  const auto error =
      AzureOpenAiDialect{}.inspectRequest("/openai/deployments/d/images/generations", "{}", info);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "unknown_endpoint");
}

TEST(AzureOpenAiDialect, StreamedUsageIsReadPastTheFilterChunksAtEverySplit) {
  const RequestInfo info = inspected(
      kChatPath, R"({"messages":[],"stream":true,"stream_options":{"include_usage":true}})");
  const std::string body = readFixture("azure/stream_with_usage.sse");
  const auto r = testing::meterBothWays(AzureOpenAiDialect{}, info, kSse, body);
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage, kFixtureUsage);
  // The filter chunks' empty "model" does not hide the model the answer names.
  EXPECT_EQ(r.response_model, "gpt-4o-2024-11-20");
  EXPECT_FALSE(r.upstream_error);
}

TEST(AzureOpenAiDialect, UsageTheGatewayAskedForIsHiddenFromTheClient) {
  RequestInfo info = inspected(kChatPath, R"({"messages":[],"stream":true})");
  const AzureOpenAiDialect dialect;
  ASSERT_TRUE(dialect.rewriteRequest(R"({"messages":[],"stream":true})", info));
  EXPECT_TRUE(info.gateway_asked_usage);
  const std::string body = readFixture("azure/stream_with_usage.sse");
  const auto fed = feed(dialect, info, 200, kSse, body, {7, 300, 1500}, true);
  EXPECT_EQ(fed.result.usage, kFixtureUsage);
  EXPECT_EQ(fed.out.find("\"usage\""), std::string::npos);
  EXPECT_NE(fed.out.find("prompt_filter_results"), std::string::npos);
  EXPECT_NE(fed.out.find("content_filter_offsets"), std::string::npos);
}

TEST(AzureOpenAiDialect, NonStreamedAnswerIsMeteredAtEverySplit) {
  const RequestInfo info = inspected(kChatPath, R"({"messages":[]})");
  const auto r = testing::meterBothWays(AzureOpenAiDialect{}, info, kJson,
                                        readFixture("azure/chat_completion.json"));
  EXPECT_EQ(r.usage_source, UsageSource::kProvider);
  EXPECT_EQ(r.usage, kFixtureUsage);
  EXPECT_EQ(r.response_model, "gpt-4o-2024-11-20");
}

TEST(AzureOpenAiDialect, ErrorsAreOpenAisShape) {
  const std::string body = AzureOpenAiDialect{}.errorBody(404, "model_not_found", "no such");
  EXPECT_NE(body.find(R"("error":{)"), std::string::npos);
  EXPECT_EQ(AzureOpenAiDialect{}.errorTypeHeader(404, "model_not_found").name, "");
}

}  // namespace
}  // namespace tollgate::meter
