// Google Vertex AI's paths through the gateway: Gemini models metered by the Gemini dialect,
// Anthropic models (rawPredict / streamRawPredict, model in the path) by the Anthropic dialect;
// the upstream's configured bearer token replaces the client's gateway key.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kGatewayKey = "tg-vertex-team-8e1f3b5d7c";
const std::string kVertexToken = "ya29.vertex-access-token-for-tests";
const std::string kPath =
    "/v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-vtest-1";
const std::string kBody = R"({"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]})";

StackOptions vertexStack() {
  StackOptions options;
  options.gateway_env = {{"TEST_VERTEX_TOKEN", kVertexToken}};
  options.extra_upstreams_yaml =
      "  - name: vertex\n"
      "    dialect: gemini\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"gemini-*\"]\n"
      "    headers:\n"
      "      authorization: \"Bearer ${TEST_VERTEX_TOKEN}\"\n"
      "  - name: vertex-claude\n"
      "    dialect: anthropic\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"claude-vtest*\"]\n"
      "    headers:\n"
      "      authorization: \"Bearer ${TEST_VERTEX_TOKEN}\"\n";
  options.extra_prices_yaml =
      "  \"gemini-vtest*\": { input: \"1.00\", cache_read: \"0.25\", output: \"4.00\" }\n"
      "  \"claude-vtest*\": { input: \"3.00\", cache_read: \"0.30\", cache_write: \"3.75\", "
      "output: \"15.00\" }\n";
  options.extra_yaml = "keys:\n  - id: vertex-team\n    sha256: \"" + sha256Hex(kGatewayKey) +
                       "\"\n    team: search\n";
  return options;
}

Headers clientHeaders() {
  return {{"authorization", "Bearer " + kGatewayKey},
          {"content-type", "application/json"},
          {"x-mock-prompt-tokens", "3000"},
          {"x-mock-cached-tokens", "1000"},
          {"x-mock-completion-tokens", "200"}};
}

class VertexTest : public ::testing::Test {
 protected:
  Json onlyEvent() {
    auto events = stack_.waitForEvents(1);
    EXPECT_EQ(events.size(), 1u);
    return Json(events.empty() ? std::string("{}") : events.back());
  }

  void expectBooked(const Json& e, bool stream) {
    EXPECT_EQ(e.str("/data/provider"), "gemini");
    EXPECT_EQ(e.str("/data/model"), "gemini-vtest-1");
    // 2000 x 1.00 + 1000 x 0.25 + 200 x 4.00, per 1M tokens.
    expectUsage(e, stream, "0.00305");
  }

  void expectUsage(const Json& e, bool stream, const std::string& total) {
    EXPECT_EQ(e.str("/data/outcome"), "ok");
    EXPECT_EQ(e.boolean("/data/stream"), stream);
    EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);
    EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 1000);
    EXPECT_EQ(e.num("/data/usage/output_tokens"), 200);
    EXPECT_EQ(e.str("/data/usage_source"), "provider");
    EXPECT_EQ(e.str("/data/cost/total"), total);
    const std::string calls = stack_.mockCalls();
    EXPECT_NE(calls.find("\"authorization\":\"Bearer " + kVertexToken + "\""), std::string::npos)
        << calls;
    EXPECT_EQ(calls.find(kGatewayKey), std::string::npos) << calls;
  }

  Stack stack_{vertexStack()};
};

TEST_F(VertexTest, GenerateContentIsBookedExactlyWithTheUpstreamsToken) {
  auto response = stack_.gatewayClient().post(kPath + ":generateContent", kBody, clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  expectBooked(onlyEvent(), false);
}

TEST_F(VertexTest, StreamGenerateContentWithSseIsBookedFromTheLastUsage) {
  auto response =
      stack_.gatewayClient().post(kPath + ":streamGenerateContent?alt=sse", kBody, clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("content-type"), "text/event-stream");
  expectBooked(onlyEvent(), true);
}

const std::string kClaudePath =
    "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/"
    "claude-vtest-1@20250514";
const std::string kClaudeBody = R"({"anthropic_version":"vertex-2023-10-16","max_tokens":512,)"
                                R"("messages":[{"role":"user","content":"Say hello"}])";

TEST_F(VertexTest, AnthropicRawPredictTakesTheModelFromThePath) {
  auto response =
      stack_.gatewayClient().post(kClaudePath + ":rawPredict", kClaudeBody + "}", clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  Json e = onlyEvent();
  EXPECT_EQ(e.str("/data/provider"), "anthropic");
  EXPECT_EQ(e.str("/data/model"), "claude-vtest-1@20250514");
  // 2000 x 3.00 + 1000 x 0.30 + 200 x 15.00, per 1M tokens.
  expectUsage(e, false, "0.0093");
}

TEST_F(VertexTest, AnthropicStreamRawPredictIsBookedFromMessageDelta) {
  auto response = stack_.gatewayClient().post(kClaudePath + ":streamRawPredict",
                                              kClaudeBody + R"(,"stream":true})", clientHeaders());
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.header("content-type"), "text/event-stream");
  Json e = onlyEvent();
  EXPECT_EQ(e.str("/data/model"), "claude-vtest-1@20250514");
  expectUsage(e, true, "0.0093");
}

TEST_F(VertexTest, AnthropicOnVertexStillNeedsAModelSomewhere) {
  auto response = stack_.gatewayClient().post(
      "/v1/projects/p/locations/l/publishers/anthropic/models/:rawPredict", kClaudeBody + "}",
      clientHeaders());
  EXPECT_EQ(response.status, 404) << response.body;
  EXPECT_EQ(stack_.mockCalls().find("\"seq\""), std::string::npos);
}

}  // namespace
}  // namespace tollgate::testing
