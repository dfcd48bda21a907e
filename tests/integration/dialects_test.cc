// Every client-facing dialect through the gateway to the mock upstream: bytes relayed unchanged,
// one event per call whose usage and money match what the mock sent, errors in the caller's shape.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

StackOptions dialectUpstreams() {
  StackOptions options;
  options.extra_upstreams_yaml =
      "  - name: claude\n"
      "    dialect: anthropic\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"claude-*\"]\n"
      "  - name: gemini\n"
      "    dialect: gemini\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"gemini-*\"]\n"
      "  - name: ollama\n"
      "    dialect: ollama\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"llama*\"]\n";
  return options;
}

Headers knobs(int prompt, int cached, int written, int completion, int reasoning = 0) {
  return {{"x-mock-prompt-tokens", std::to_string(prompt)},
          {"x-mock-cached-tokens", std::to_string(cached)},
          {"x-mock-cache-write-tokens", std::to_string(written)},
          {"x-mock-completion-tokens", std::to_string(completion)},
          {"x-mock-reasoning-tokens", std::to_string(reasoning)},
          {"x-team", "search"}};
}

Headers with(Headers headers, const std::string& name, const std::string& value) {
  headers.emplace_back(name, value);
  return headers;
}

class DialectsTest : public ::testing::Test {
 protected:
  // Posts to the gateway and to the mock directly; the client must get the mock's bytes.
  HttpResponse relayed(const std::string& target, const std::string& body, const Headers& headers) {
    auto direct = stack_.mockClient().post(target, body, headers);
    auto via = stack_.gatewayClient().post(target, body, headers);
    EXPECT_EQ(via.status, direct.status) << via.body;
    EXPECT_EQ(via.body, direct.body);
    EXPECT_EQ(via.header("content-type"), direct.header("content-type"));
    return via;
  }

  Json lastEvent(size_t count) {
    auto events = stack_.waitForEvents(count);
    EXPECT_EQ(events.size(), count);
    return Json(events.empty() ? std::string("{}") : events.back());
  }

  Stack stack_{dialectUpstreams()};
};

const std::string kClaude =
    R"({"model":"claude-sonnet-4-20250514","max_tokens":512,"messages":[{"role":"user","content":"Say hello"}])";

TEST_F(DialectsTest, AnthropicMessageIsPricedWithCacheReadsAndWritesOnce) {
  relayed("/v1/messages", kClaude + "}", knobs(3000, 1000, 500, 200));
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/provider"), "anthropic");
  EXPECT_EQ(e.str("/data/operation"), "chat");
  EXPECT_EQ(e.str("/data/outcome"), "ok");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);
  EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 1000);
  EXPECT_EQ(e.num("/data/usage/cache_write_tokens"), 500);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 200);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
  EXPECT_EQ(e.str("/data/price_ref"), "tollgate-default-2026-12-05/claude-sonnet-4*");
  // 1500 x 3.00 + 1000 x 0.30 + 500 x 3.75 + 200 x 15.00, per 1M tokens.
  EXPECT_EQ(e.str("/data/cost/input"), "0.0045");
  EXPECT_EQ(e.str("/data/cost/cache_read"), "0.0003");
  EXPECT_EQ(e.str("/data/cost/cache_write"), "0.001875");
  EXPECT_EQ(e.str("/data/cost/output"), "0.003");
  EXPECT_EQ(e.str("/data/cost/total"), "0.009675");
}

TEST_F(DialectsTest, AnthropicStreamTakesTheCumulativeMessageDeltaUsage) {
  relayed("/v1/messages", kClaude + R"(,"stream":true})", knobs(3000, 1000, 500, 200));
  Json e = lastEvent(1);
  EXPECT_TRUE(e.boolean("/data/stream"));
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 200);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
  EXPECT_EQ(e.str("/data/cost/total"), "0.009675");
}

TEST_F(DialectsTest, AnthropicStreamCutBeforeUsageIsEstimatedFromWhatWasRelayed) {
  auto via =
      stack_.gatewayClient().post("/v1/messages", kClaude + R"(,"stream":true})",
                                  with(knobs(3000, 1000, 500, 200), "x-mock-cut-after", "2"));
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);  // message_start's
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 100);  // 2 of 4 events: 400 bytes of text
  EXPECT_EQ(e.str("/data/cost/total"), "0.008175");
}

TEST_F(DialectsTest, AnthropicErrorEventMidStreamIsAnUpstreamError) {
  auto via = relayed("/v1/messages", kClaude + R"(,"stream":true})",
                     with(knobs(3000, 1000, 500, 200), "x-mock-error-mid-stream", "1"));
  EXPECT_NE(via.body.find("event: error"), std::string::npos);
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 3000);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 50);
}

const std::string kGeminiBody = R"({"contents":[{"role":"user","parts":[{"text":"Say hello"}]}]})";

TEST_F(DialectsTest, GeminiGenerateContentTakesTheModelFromThePath) {
  relayed("/v1beta/models/gemini-2.5-pro:generateContent", kGeminiBody,
          knobs(1000, 600, 0, 500, 300));
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/provider"), "gemini");
  EXPECT_EQ(e.str("/data/model_requested"), "gemini-2.5-pro");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 1000);
  EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 600);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 500);
  EXPECT_EQ(e.num("/data/usage/reasoning_tokens"), 300);
  EXPECT_EQ(e.str("/data/cost/total"), "0.005575");
}

TEST_F(DialectsTest, GeminiSseAndJsonArrayStreamsAreMeteredAlike) {
  relayed("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", kGeminiBody,
          knobs(1000, 600, 0, 500, 300));
  relayed("/v1beta/models/gemini-2.5-pro:streamGenerateContent", kGeminiBody,
          knobs(1000, 600, 0, 500, 300));
  auto events = stack_.waitForEvents(2);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& line : events) {
    Json e(line);
    EXPECT_TRUE(e.boolean("/data/stream"));
    EXPECT_EQ(e.num("/data/usage/input_tokens"), 1000);
    EXPECT_EQ(e.num("/data/usage/output_tokens"), 500);
    EXPECT_EQ(e.str("/data/usage_source"), "provider");
    EXPECT_EQ(e.str("/data/cost/total"), "0.005575");
  }
}

TEST_F(DialectsTest, GeminiErrorMidStreamKeepsTheUsageKnownSoFar) {
  relayed("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", kGeminiBody,
          with(knobs(1000, 600, 0, 500, 300), "x-mock-error-mid-stream", "2"));
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 1000);
  // The second chunk's cumulative usage: 200 x 2 / 4 candidates + 300 thoughts.
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 400);
}

TEST_F(DialectsTest, OllamaChatStreamAndGenerateAreMeteredAndUnpricedModelsSayPricedFalse) {
  relayed("/api/chat", R"({"model":"llama3.2","messages":[{"role":"user","content":"hi"}]})",
          knobs(26, 0, 0, 298));
  relayed("/api/generate", R"({"model":"llama3.2","prompt":"hi","stream":false})",
          knobs(26, 0, 0, 298));
  auto events = stack_.waitForEvents(2);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& line : events) {
    Json e(line);
    EXPECT_EQ(e.str("/data/provider"), "ollama");
    EXPECT_EQ(e.num("/data/usage/input_tokens"), 26);
    EXPECT_EQ(e.num("/data/usage/output_tokens"), 298);
    EXPECT_EQ(e.str("/data/usage_source"), "provider");
    EXPECT_FALSE(e.boolean("/data/priced"));
  }
  // Events of calls on different connections may be written in either order.
  for (const auto& line : events) {
    Json e(line);
    EXPECT_EQ(e.boolean("/data/stream"), e.str("/data/endpoint") == "/api/chat") << line;
  }
  EXPECT_EQ(stack_.metric("tollgate_unpriced_calls_total"), 2);
}

TEST_F(DialectsTest, OllamaStreamCutBeforeTheDoneLineIsEstimated) {
  stack_.gatewayClient().post("/api/chat",
                              R"({"model":"llama3.2","messages":[{"role":"user","content":"hi"}]})",
                              with(knobs(26, 0, 0, 300), "x-mock-cut-after", "2"));
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 5);  // "hi": 1 token + 4 for the message
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 150);
}

const std::string kResponses = R"({"model":"o3","input":"Say hello")";

TEST_F(DialectsTest, ResponsesApiUsageComesFromResponseCompleted) {
  relayed("/v1/responses", kResponses + "}", knobs(328, 256, 0, 1035, 768));
  relayed("/v1/responses", kResponses + R"(,"stream":true})", knobs(328, 256, 0, 1035, 768));
  auto events = stack_.waitForEvents(2);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& line : events) {
    Json e(line);
    EXPECT_EQ(e.str("/data/operation"), "responses");
    EXPECT_EQ(e.num("/data/usage/input_tokens"), 328);
    EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 256);
    EXPECT_EQ(e.num("/data/usage/output_tokens"), 1035);
    EXPECT_EQ(e.num("/data/usage/reasoning_tokens"), 768);
    EXPECT_EQ(e.str("/data/usage_source"), "provider");
    // 72 x 2.00 + 256 x 0.50 + 1035 x 8.00, per 1M tokens.
    EXPECT_EQ(e.str("/data/cost/total"), "0.008552");
  }
}

TEST_F(DialectsTest, ResponsesErrorMidStreamIsAnUpstreamError) {
  relayed("/v1/responses", kResponses + R"(,"stream":true})",
          with(knobs(328, 256, 0, 1035, 768), "x-mock-error-mid-stream", "1"));
  Json e = lastEvent(1);
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
}

TEST_F(DialectsTest, GatewayErrorsSpeakTheCallersDialect) {
  auto client = stack_.gatewayClient();
  auto r = client.post("/v1/messages", R"({"model":"mistral-large","messages":[]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(
      r.body,
      R"({"type":"error","error":{"type":"not_found_error","message":"no upstream serves model 'mistral-large'","code":"model_not_found"}})");
  r = client.post("/v1/messages/batches", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r.body).str("/type"), "error");
  r = client.post("/v1beta/models/gemini-2.5-pro:countTokens", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r.body).str("/error/status"), "NOT_FOUND");
  r = client.post("/api/tags", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r.body).str("/code"), "unknown_endpoint");
  r = client.post("/api/chat", "not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r.body).str("/code"), "invalid_json");
}

}  // namespace
}  // namespace tollgate::testing

namespace tollgate::testing {
namespace {

// Regression: a Gemini client's `?key=` is its credential for the gateway; it was forwarded to
// the upstream inside the request target.
TEST(GeminiQueryKey, KeyQueryParameterIsNotForwardedUpstream) {
  Stack stack{dialectUpstreams()};
  const std::string target =
      "/v1beta/models/gemini-2.5-pro:streamGenerateContent?key=client-secret-key&alt=sse";
  auto r = stack.gatewayClient().post(target, kGeminiBody);
  EXPECT_EQ(r.status, 200) << r.body;
  const std::string calls = stack.mockCalls();
  EXPECT_EQ(calls.find("client-secret-key"), std::string::npos) << calls;
  Json j(calls);
  EXPECT_EQ(j.str("/calls/0/target"),
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse");
}

}  // namespace
}  // namespace tollgate::testing
