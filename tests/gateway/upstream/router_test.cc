#include "gateway/upstream/router.h"

#include <gtest/gtest.h>

#include "gateway/upstream/retry_policy.h"
#include "gateway/upstream/upstream_set.h"
#include "meter/gemini_dialect.h"

namespace tollgate::gateway {
namespace {

config::UpstreamConfig upstream(std::string name, std::string dialect,
                                std::vector<std::string> models) {
  config::UpstreamConfig u;
  u.name = std::move(name);
  u.dialect = std::move(dialect);
  u.models = std::move(models);
  return u;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    config_.upstreams = {upstream("mini", "openai", {"gpt-4o-mini*"}),
                         upstream("all-openai", "openai", {"*"}),
                         upstream("claude", "anthropic", {"claude-*"})};
  }
  config::Config config_;
};

TEST_F(RouterTest, FirstUpstreamOfTheDialectWhoseGlobMatchesWinsInConfigOrder) {
  const Router router(config_);
  const UpstreamSet* mini = router.route("openai", "gpt-4o-mini-2024-07-18");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->config().name, "mini");
  const UpstreamSet* other = router.route("openai", "o3");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->config().name, "all-openai");
  EXPECT_EQ(router.route("anthropic", "claude-sonnet-4")->config().name, "claude");
}

TEST_F(RouterTest, ModelOfAnotherDialectOrNoMatchIsNotRouted) {
  const Router router(config_);
  EXPECT_EQ(router.route("anthropic", "gpt-4o"), nullptr);
  EXPECT_EQ(router.route("gemini", "gemini-2.5-pro"), nullptr);
}

TEST_F(RouterTest, PathsSelectTheirDialectAndUnknownPathsNone) {
  const Router router(config_);
  EXPECT_EQ(router.endpointFor("/v1/chat/completions").dialect->name(), "openai");
  EXPECT_EQ(router.endpointFor("/v1/responses").dialect->name(), "openai");
  EXPECT_EQ(router.endpointFor("/v1/messages").dialect->name(), "anthropic");
  EXPECT_EQ(router.endpointFor("/api/chat").dialect->name(), "ollama");
  EXPECT_EQ(router.endpointFor("/v1beta/models/gemini-2.5-pro:generateContent").dialect->name(),
            "gemini");
  EXPECT_EQ(router.endpointFor("/v1/unknown").dialect, nullptr);
  EXPECT_EQ(router.errorDialectFor("/v1/messages/batches").name(), "anthropic");
  EXPECT_EQ(router.errorDialectFor("/nothing").name(), "openai");
}

TEST_F(RouterTest, BedrockRuntimePathsSelectTheBedrockDialect) {
  const Router router(config_);
  for (const char* operation :
       {"converse", "converse-stream", "invoke", "invoke-with-response-stream"}) {
    const std::string path =
        std::string("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/") + operation;
    ASSERT_NE(router.endpointFor(path).dialect, nullptr) << path;
    EXPECT_EQ(router.endpointFor(path).dialect->name(), "bedrock") << path;
  }
  EXPECT_EQ(router.endpointFor("/model/anthropic.claude-v2/count-tokens").dialect, nullptr);
  EXPECT_EQ(router.endpointFor("/model//converse").dialect, nullptr);
  EXPECT_EQ(router.errorDialectFor("/model/anthropic.claude-v2/count-tokens").name(), "bedrock");
}

TEST_F(RouterTest, VertexAiPathsSelectTheirPublishersDialect) {
  const Router router(config_);
  const std::string base =
      "/v1/projects/my-project/locations/us-central1/publishers/google/models/";
  for (const char* method : {":generateContent", ":streamGenerateContent"}) {
    const auto endpoint = router.endpointFor(base + "gemini-2.5-flash" + method);
    ASSERT_NE(endpoint.dialect, nullptr) << method;
    EXPECT_EQ(endpoint.dialect->name(), "gemini");
  }
  std::string_view model;
  bool stream = false;
  ASSERT_TRUE(meter::GeminiDialect::parsePath(
      "/v1beta1/projects/p/locations/global/publishers/google/models/gemini-2.5-pro:"
      "streamGenerateContent",
      model, stream));
  EXPECT_EQ(model, "gemini-2.5-pro");
  EXPECT_TRUE(stream);
  EXPECT_EQ(router.endpointFor(base + "gemini-2.5-flash:countTokens").dialect, nullptr);
  EXPECT_EQ(router.endpointFor("/v1/projects/p/publishers/google/models/g:generateContent").dialect,
            nullptr);
  EXPECT_EQ(router
                .endpointFor("/v1/projects/p/locations/l/x/publishers/google/models/g:"
                             "generateContent")
                .dialect,
            nullptr);
  for (const char* method : {":rawPredict", ":streamRawPredict"}) {
    const auto endpoint = router.endpointFor(
        std::string("/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
                    "claude-sonnet-4@20250514") +
        method);
    ASSERT_NE(endpoint.dialect, nullptr) << method;
    EXPECT_EQ(endpoint.dialect->name(), "anthropic");
  }
  EXPECT_EQ(
      router.endpointFor("/v1/projects/p/locations/l/publishers/anthropic/models/c:countTokens")
          .dialect,
      nullptr);
}

TEST_F(RouterTest, AzureOpenAiPathsSelectTheAzureDialect) {
  const Router router(config_);
  for (const char* path : {"/openai/deployments/prod-chat/chat/completions",
                           "/openai/deployments/prod-chat/completions",
                           "/openai/deployments/embed/embeddings", "/openai/v1/chat/completions",
                           "/openai/v1/embeddings", "/openai/v1/responses", "/openai/responses"}) {
    ASSERT_NE(router.endpointFor(path).dialect, nullptr) << path;
    EXPECT_EQ(router.endpointFor(path).dialect->name(), "azure_openai") << path;
  }
  EXPECT_EQ(router.endpointFor("/openai/deployments/d/images/generations").dialect, nullptr);
  EXPECT_EQ(router.endpointFor("/openai/v1/models").dialect, nullptr);
  // Azure's error shape is OpenAI's.
  EXPECT_EQ(router.errorDialectFor("/openai/v1/models").name(), "openai");
}

TEST_F(RouterTest, AzureDeploymentsAreRoutedByTheirNameToAzureUpstreamsOnly) {
  config_.upstreams.push_back(upstream("azure", "azure_openai", {"prod-*"}));
  const Router router(config_);
  ASSERT_NE(router.route("azure_openai", "prod-chat"), nullptr);
  EXPECT_EQ(router.route("azure_openai", "prod-chat")->config().name, "azure");
  EXPECT_EQ(router.route("azure_openai", "gpt-4o"), nullptr);
  EXPECT_EQ(router.route("openai", "prod-chat")->config().name, "all-openai");
}

TEST_F(RouterTest, AnAzureDeploymentIsPricedAsTheModelItsUpstreamMapsItTo) {
  auto azure = upstream("azure", "azure_openai", {"prod-*"});
  azure.deployments = {{"prod-chat", "gpt-4o-2024-11-20"}};
  config_.upstreams.push_back(azure);
  const Router router(config_);
  EXPECT_EQ(router.pricedModel("azure_openai", "prod-chat"), "gpt-4o-2024-11-20");
  EXPECT_EQ(router.pricedModel("azure_openai", "prod-other"), "prod-other");      // not mapped
  EXPECT_EQ(router.pricedModel("azure_openai", "staging-chat"), "staging-chat");  // not routed
  EXPECT_EQ(router.pricedModel("openai", "prod-chat"), "prod-chat");
}

TEST_F(RouterTest, RoutedSetNamesTheConfiguredUpstreamItself) {
  const Router router(config_);
  const UpstreamSet* set = router.route("openai", "gpt-4o-mini");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(&set->config(), &config_.upstreams[0]);
}

TEST(RetryPolicy, OnlyAStalePooledConnectionWithNothingWrittenIsTriedAgainOnce) {
  const RetryPolicy policy;
  AttemptFailure stale;
  stale.stale_pooled_connection = true;
  EXPECT_TRUE(policy.shouldRetry(stale, 0));
  // Once only.
  EXPECT_FALSE(policy.shouldRetry(stale, 1));
}

TEST(RetryPolicy, AnythingThatMayHaveReachedTheUpstreamIsNeverRetried) {
  const RetryPolicy policy;
  AttemptFailure written;
  written.stale_pooled_connection = true;
  written.request_bytes_written = true;
  EXPECT_FALSE(policy.shouldRetry(written, 0));
  AttemptFailure relayed;
  relayed.stale_pooled_connection = true;
  relayed.response_bytes_relayed = true;
  EXPECT_FALSE(policy.shouldRetry(relayed, 0));
  // A fresh connection that failed (reset, refused, timed out) is not known to be unseen.
  EXPECT_FALSE(policy.shouldRetry(AttemptFailure{}, 0));
}

}  // namespace
}  // namespace tollgate::gateway
