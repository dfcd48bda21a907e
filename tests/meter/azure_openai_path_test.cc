#include "meter/azure_openai_path.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "meter/azure_deployment_models.h"

namespace tollgate::meter {
namespace {

TEST(AzureOpenAiTarget, DeploymentChatCompletionsNamesDeploymentAndApiVersion) {
  const auto route = parseAzureOpenAiTarget(
      "/openai/deployments/prod-chat/chat/completions?api-version=2024-10-21");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->deployment, "prod-chat");
  EXPECT_EQ(route->openai_path, "/v1/chat/completions");
  EXPECT_EQ(route->api_version, "2024-10-21");
  EXPECT_FALSE(route->v1);
}

TEST(AzureOpenAiTarget, DeploymentEmbeddingsAndCompletions) {
  auto route = parseAzureOpenAiTarget(
      "/openai/deployments/emb%2D3/embeddings?foo=1&api-version=2025-01-01-preview");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->deployment, "emb-3");
  EXPECT_EQ(route->openai_path, "/v1/embeddings");
  EXPECT_EQ(route->api_version, "2025-01-01-preview");
  route = parseAzureOpenAiTarget("/openai/deployments/d/completions?api-version=2024-10-21");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->openai_path, "/v1/completions");
}

TEST(AzureOpenAiTarget, V1ApiNeedsNoApiVersionAndNamesNoDeployment) {
  auto route = parseAzureOpenAiTarget("/openai/v1/chat/completions");
  ASSERT_TRUE(route.has_value());
  EXPECT_TRUE(route->v1);
  EXPECT_EQ(route->deployment, "");
  EXPECT_EQ(route->openai_path, "/v1/chat/completions");
  route = parseAzureOpenAiTarget("/openai/v1/responses?api-version=preview");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->openai_path, "/v1/responses");
  EXPECT_EQ(route->api_version, "preview");
  route = parseAzureOpenAiTarget("/openai/responses?api-version=2025-04-01-preview");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->openai_path, "/v1/responses");
}

TEST(AzureOpenAiTarget, OtherTargetsAreNotAzureOpenAi) {
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/deployments/d/chat/completions"));  // no version
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/deployments//chat/completions?api-version=1"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/deployments/a%2Fb/embeddings?api-version=1"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/deployments/d%zz/embeddings?api-version=1"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/deployments/d/images/generations?api-version=1"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/deployments/d/responses?api-version=1"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/responses"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/openai/v1/models"));
  EXPECT_FALSE(parseAzureOpenAiTarget("/v1/chat/completions"));
}

TEST(AzureDeploymentModels, ConfiguredDeploymentsPriceAsTheirModelOthersAsTheirName) {
  const AzureDeploymentModels models(
      std::map<std::string, std::string, std::less<>>{{"prod-chat", "gpt-4o-mini-2024-07-18"}});
  EXPECT_EQ(models.modelFor("prod-chat"), "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(models.modelFor("gpt-4o"), "gpt-4o");
}

}  // namespace
}  // namespace tollgate::meter
