// Issue 18's rule, end to end: once bytes were relayed, an upstream failure ends the client's
// response with an explicit error in its dialect (gateway/proxy/stream_ending.h), never an end
// that looks complete.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/support/sse_events.h"
#include "tests/integration/support/stack.h"
#include "tests/integration/support/stream_requests.h"

namespace tollgate::testing {
namespace {

// What the last event must say, by dialect: the OpenAI chat error object, the Responses
// `error` event, Anthropic's `event: error`.
void expectErrorEvent(const StreamRequest& request, const SseEvent& last) {
  const Json body(last.data);
  ASSERT_TRUE(body.ok()) << last.data;
  const std::string path = request.path;
  if (path == kChatStream.path) {
    EXPECT_EQ(body.str("/error/code"), "upstream_stream_error");
  } else if (path == kResponsesStream.path) {
    EXPECT_EQ(last.event, "error");
    EXPECT_EQ(body.str("/code"), "upstream_stream_error");
  } else {
    EXPECT_EQ(last.event, "error");
    EXPECT_EQ(body.str("/error/type"), "api_error");
  }
}

TEST(StreamFailure, AnUpstreamResetMidStreamEndsWithAnErrorEventAndAShortBody) {
  StackOptions options;
  options.extra_upstreams_yaml = kClaudeUpstreamYaml;
  Stack stack(options);
  const Headers reset = {{"x-mock-chunks", "8"}, {"x-mock-reset-after", "3"}};
  for (const StreamRequest& request : {kChatStream, kResponsesStream, kMessagesStream}) {
    SCOPED_TRACE(request.name);
    auto client = stack.gatewayClient();
    const auto r = client.post(request.path, request.body, reset);
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);  // the body is left short: no chunked terminator
    bool whole = false;
    const auto events = parseSse(r.body, &whole);
    EXPECT_TRUE(whole) << r.body;
    ASSERT_GE(events.size(), 2u) << r.body;
    expectErrorEvent(request, events.back());
    for (const auto& e : events) {
      EXPECT_NE(e.data, "[DONE]");
      EXPECT_NE(e.event, "message_stop");
      EXPECT_NE(e.event, "response.completed");
    }
  }
  const auto lines = stack.waitForEvents(3);
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& line : lines) EXPECT_EQ(Json(line).str("/data/outcome"), "upstream_error");
}

TEST(StreamFailure, GeminiSseAndOllamaNdjsonEndWithTheirOwnErrorForm) {
  StackOptions options;
  options.extra_upstreams_yaml =
      "  - name: gemini\n"
      "    dialect: gemini\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"gemini-*\"]\n"
      "  - name: ollama\n"
      "    dialect: ollama\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"llama*\"]\n";
  Stack stack(options);
  const Headers reset = {{"x-mock-chunks", "8"}, {"x-mock-reset-after", "3"}};
  {
    auto client = stack.gatewayClient();
    const auto r = client.post("/v1beta/models/gemini-test-1:streamGenerateContent?alt=sse",
                               R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})", reset);
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    bool whole = false;
    const auto events = parseSse(r.body, &whole);
    EXPECT_TRUE(whole) << r.body;
    ASSERT_GE(events.size(), 2u) << r.body;
    const Json last(events.back().data);
    EXPECT_EQ(last.num("/error/code"), 502) << events.back().data;
    EXPECT_EQ(last.str("/error/details/0/reason"), "upstream_stream_error");
  }
  {
    auto client = stack.gatewayClient();
    const auto r = client.post(
        "/api/chat", R"({"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]})", reset);
    ASSERT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    ASSERT_FALSE(r.body.empty());
    ASSERT_EQ(r.body.back(), '\n');
    const size_t start = r.body.rfind('\n', r.body.size() - 2);
    const std::string line = r.body.substr(start == std::string::npos ? 0 : start + 1);
    const Json last(line);
    EXPECT_EQ(last.str("/code"), "upstream_stream_error") << r.body;
    EXPECT_EQ(r.body.find("\"done\":true"), std::string::npos);
  }
  const auto lines = stack.waitForEvents(2);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) EXPECT_EQ(Json(line).str("/data/outcome"), "upstream_error");
}

}  // namespace
}  // namespace tollgate::testing
