// Azure OpenAI's paths through the gateway to the mock: the client's api-key is its gateway key,
// the upstream's configured api-key is sent instead, the deployment is priced as the model the
// upstream's `deployments` names, and Azure's content-filter chunks do not disturb metering.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kGatewayKey = "tg-azure-team-3b9d1e7a5c";
const std::string kAzureKey = "azure-resource-key-for-tests";
const std::string kChatPath =
    "/openai/deployments/prod-chat/chat/completions?api-version=2024-10-21";
const std::string kMessages = R"("messages":[{"role":"user","content":"Say hello"}])";

StackOptions azureStack() {
  StackOptions options;
  options.gateway_env = {{"TEST_AZURE_KEY", kAzureKey}};
  options.extra_upstreams_yaml =
      "  - name: azure\n"
      "    dialect: azure_openai\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"prod-*\"]\n"
      "    headers:\n"
      "      api-key: \"${TEST_AZURE_KEY}\"\n"
      "    deployments:\n"
      "      prod-chat: gpt-atest-1\n"
      "  - name: azure-byok\n"
      "    dialect: azure_openai\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"byok-*\"]\n"
      "    passthrough_auth: true\n"
      "    deployments:\n"
      "      byok-chat: gpt-atest-1\n";
  options.extra_prices_yaml =
      "  \"gpt-atest*\": { input: \"2.50\", cache_read: \"1.25\", output: \"10.00\" }\n";
  options.extra_yaml = "keys:\n  - id: azure-team\n    sha256: \"" + sha256Hex(kGatewayKey) +
                       "\"\n    team: search\n";
  return options;
}

Headers clientHeaders() {
  return {{"api-key", kGatewayKey},
          {"content-type", "application/json"},
          {"x-mock-prompt-tokens", "3000"},
          {"x-mock-cached-tokens", "1000"},
          {"x-mock-completion-tokens", "200"},
          {"x-mock-chunks", "4"}};
}

class AzureOpenAiTest : public ::testing::Test {
 protected:
  Json onlyEvent() {
    auto events = stack_.waitForEvents(1);
    EXPECT_EQ(events.size(), 1u);
    return Json(events.empty() ? std::string("{}") : events.back());
  }

  Json onlyMockCall() {
    Json calls(stack_.mockCalls());
    auto list = calls.root()["calls"].get_array();
    EXPECT_FALSE(list.error());
    EXPECT_EQ(list.value().size(), 1u);
    return Json(simdjson::minify(list.value().at(0).value()));
  }

  // 2000 x 2.50 + 1000 x 1.25 + 200 x 10.00, per 1M tokens.
  void expectBooked(const Json& e, bool stream) {
    EXPECT_EQ(e.str("/data/provider"), "azure_openai");
    EXPECT_EQ(e.str("/data/model_requested"), "gpt-atest-1");
    EXPECT_EQ(e.str("/data/outcome"), "ok");
    EXPECT_EQ(e.boolean("/data/stream"), stream);
    EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);
    EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 1000);
    EXPECT_EQ(e.num("/data/usage/output_tokens"), 200);
    EXPECT_EQ(e.str("/data/usage_source"), "provider");
    EXPECT_TRUE(e.boolean("/data/priced"));
    EXPECT_EQ(e.str("/data/cost/total"), "0.00825");
    EXPECT_EQ(e.str("/data/team"), "search");
  }

  void expectAzureCredential() {
    Json call = onlyMockCall();
    EXPECT_EQ(call.str("/headers/api-key"), kAzureKey);
    const std::string raw = stack_.mockCalls();
    EXPECT_EQ(raw.find(kGatewayKey), std::string::npos) << raw;
  }

  Stack stack_{azureStack()};
};

TEST_F(AzureOpenAiTest, DeploymentChatCompletionIsPricedAsItsMappedModel) {
  auto response = stack_.gatewayClient().post(kChatPath, "{" + kMessages + "}", clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("prompt_filter_results"), std::string::npos);
  expectBooked(onlyEvent(), false);
  expectAzureCredential();
  // The target goes upstream as the client sent it, api-version included.
  EXPECT_EQ(onlyMockCall().str("/target"), kChatPath);
}

TEST_F(AzureOpenAiTest, StreamedChatWithFilterChunksIsBookedAndTheAddedUsageHidden) {
  auto response = stack_.gatewayClient().post(kChatPath, "{" + kMessages + R"(,"stream":true})",
                                              clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("content-type"), "text/event-stream");
  EXPECT_NE(response.body.find("prompt_filter_results"), std::string::npos);
  // The client did not ask for usage: the gateway did, and the client sees none of it.
  EXPECT_EQ(response.body.find("\"usage\""), std::string::npos) << response.body;
  expectBooked(onlyEvent(), true);
  expectAzureCredential();
}

TEST_F(AzureOpenAiTest, V1ApiNamesTheDeploymentInTheBody) {
  auto response = stack_.gatewayClient().post(
      "/openai/v1/chat/completions", R"({"model":"prod-chat",)" + kMessages + "}", clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  expectBooked(onlyEvent(), false);
  expectAzureCredential();
}

TEST_F(AzureOpenAiTest, V1ResponsesApiIsMeteredFromItsCompletedEvent) {
  auto response = stack_.gatewayClient().post(
      "/openai/v1/responses", R"({"model":"prod-chat","input":"Say hello"})", clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  Json e = onlyEvent();
  EXPECT_EQ(e.str("/data/operation"), "responses");
  expectBooked(e, false);
  expectAzureCredential();
}

TEST_F(AzureOpenAiTest, PassthroughAuthForwardsTheClientsOwnApiKeyNotTheGatewayKey) {
  Headers headers = clientHeaders();
  headers[0] = {"authorization", "Bearer " + kGatewayKey};
  headers.emplace_back("api-key", "the-teams-own-azure-key");
  auto response = stack_.gatewayClient().post(
      "/openai/deployments/byok-chat/chat/completions?api-version=2024-10-21",
      "{" + kMessages + "}", headers);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(onlyMockCall().str("/headers/api-key"), "the-teams-own-azure-key");
  const std::string raw = stack_.mockCalls();
  EXPECT_EQ(raw.find(kGatewayKey), std::string::npos) << raw;
  EXPECT_EQ(onlyEvent().str("/data/model_requested"), "gpt-atest-1");
}

TEST_F(AzureOpenAiTest, AnUnroutedDeploymentIsRefusedInOpenAisShape) {
  auto response = stack_.gatewayClient().post(
      "/openai/deployments/other/chat/completions?api-version=2024-10-21", "{" + kMessages + "}",
      clientHeaders());
  EXPECT_EQ(response.status, 404);
  Json body(response.body);
  EXPECT_EQ(body.str("/error/code"), "model_not_found");
  EXPECT_EQ(stack_.mockCalls().find("\"seq\""), std::string::npos);
}

TEST_F(AzureOpenAiTest, AWrongApiKeyIsRefusedBeforeTheUpstream) {
  Headers headers = clientHeaders();
  headers[0].second = "not-a-gateway-key";
  auto response = stack_.gatewayClient().post(kChatPath, "{" + kMessages + "}", headers);
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(stack_.mockCalls().find("\"seq\""), std::string::npos);
}

// Spend control sees the model a deployment is priced as: a budget holds an Azure call's worst
// case at the mapped model's price (the deployment name itself has none).
TEST(AzureOpenAiBudgetTest, ABudgetHoldsADeploymentsCallAtItsModelsPrice) {
  TempDir state;
  StackOptions options = azureStack();
  options.extra_yaml +=
      "budgets:\n"
      "  - { name: tiny, scope: {}, period: month, limit_usd: \"0.01\" }\n"
      "spend_state: { backend: local, file: \"" +
      state.file("spend.tsv") + "\" }\n";
  Stack stack(options);
  // 5000 output tokens at $10 per million: $0.05 held, more than the $0.01 limit.
  auto response = stack.gatewayClient().post(kChatPath, "{" + kMessages + R"(,"max_tokens":5000})",
                                             clientHeaders());
  EXPECT_EQ(response.status, 429) << response.body;
  EXPECT_EQ(stack.mockCalls().find("\"seq\""), std::string::npos);
  auto events = stack.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  Json e(events.back());
  EXPECT_EQ(e.str("/data/model_requested"), "gpt-atest-1");
  EXPECT_EQ(e.str("/data/outcome"), "rejected");
}

}  // namespace
}  // namespace tollgate::testing
