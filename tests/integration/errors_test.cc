// Bad input and failing upstreams: each gets an OpenAI-shaped error with a stable code, and the
// gateway keeps serving the next call.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";
const std::string kGood = R"({"model":"gpt-test-1","messages":[{"role":"user","content":"hi"}]})";

class ErrorsTest : public ::testing::Test {
 protected:
  // The error is OpenAI-shaped with the expected code, and the next call still works.
  void expectOpenAiError(const HttpResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_EQ(r.header("x-request-id").size(), 32u);
    Json j(r.body);
    ASSERT_TRUE(j.ok()) << r.body;
    EXPECT_EQ(j.str("/error/code"), code) << r.body;
    EXPECT_FALSE(j.str("/error/message").empty());
    EXPECT_FALSE(j.str("/error/type").empty());
    auto next = stack_.gatewayClient().post(kChat, kGood);
    EXPECT_EQ(next.status, 200) << "the gateway did not serve the next call: " << next.body;
  }

  Stack stack_;
};

TEST_F(ErrorsTest, MalformedJsonIs400InvalidJson) {
  auto r = stack_.gatewayClient().post(kChat, R"({"model":"gpt-test-1",)");
  expectOpenAiError(r, 400, "invalid_json");
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "rejected");
  EXPECT_EQ(e.num("/data/status"), 400);
}

TEST_F(ErrorsTest, MissingModelIs400MissingModel) {
  expectOpenAiError(stack_.gatewayClient().post(kChat, R"({"messages":[]})"), 400, "missing_model");
}

TEST_F(ErrorsTest, ModelNoUpstreamServesIs404) {
  auto r = stack_.gatewayClient().post(kChat, R"({"model":"llama-unknown","messages":[]})");
  expectOpenAiError(r, 404, "model_not_found");
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "rejected");
  EXPECT_FALSE(e.boolean("/data/priced"));
}

TEST_F(ErrorsTest, UnknownEndpointIs404) {
  expectOpenAiError(stack_.gatewayClient().post("/v1/nothing-here", kGood), 404,
                    "unknown_endpoint");
}

TEST_F(ErrorsTest, OversizedBodyIs413) {
  std::string big = R"({"model":"gpt-test-1","messages":[{"role":"user","content":")" +
                    std::string(70'000, 'a') + R"("}]})";
  expectOpenAiError(stack_.gatewayClient().post(kChat, big), 413, "request_too_large");
}

TEST_F(ErrorsTest, SlowClientTimesOutWith408) {
  // Half a request head, then nothing: the gateway gives up after client_header_ms (1 s).
  auto client = stack_.gatewayClient();
  const std::string reply =
      client.raw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n", std::chrono::seconds(10));
  EXPECT_NE(reply.find("HTTP/1.1 408"), std::string::npos) << reply;
  EXPECT_NE(reply.find(R"("code":"request_timeout")"), std::string::npos) << reply;
  EXPECT_EQ(stack_.gatewayClient().post(kChat, kGood).status, 200);
}

TEST_F(ErrorsTest, SlowBodyTimesOutWith408) {
  auto client = stack_.gatewayClient();
  const std::string reply = client.raw(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\"",
      std::chrono::seconds(10));
  EXPECT_NE(reply.find("HTTP/1.1 408"), std::string::npos) << reply;
}

TEST_F(ErrorsTest, UpstreamRefusingConnectionsIs502) {
  auto r = stack_.gatewayClient().post(kChat, R"({"model":"refused-1","messages":[]})");
  expectOpenAiError(r, 502, "upstream_unavailable");
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/upstream"), "refused");
}

TEST_F(ErrorsTest, StalledUpstreamIs504) {
  auto r = stack_.gatewayClient().post(kChat, kGood, {{"x-mock-stall", "1"}});
  expectOpenAiError(r, 504, "upstream_timeout");
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "timeout");
}

TEST_F(ErrorsTest, UpstreamErrorStatusIsRelayedAndBooked) {
  auto direct = stack_.mockClient().post(kChat, kGood, {{"x-mock-status", "429"}});
  auto r = stack_.gatewayClient().post(kChat, kGood, {{"x-mock-status", "429"}});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, direct.body);
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.num("/data/status"), 429);
}

TEST_F(ErrorsTest, UpstreamCutMidStreamIsMeteredAsUpstreamError) {
  const std::string body =
      R"({"model":"gpt-test-1","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  auto r = stack_.gatewayClient().post(
      kChat, body,
      {{"x-mock-cut-after", "2"}, {"x-mock-chunks", "8"}, {"x-mock-completion-tokens", "40"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);  // the client sees the cut, as it would calling directly
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "upstream_error");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  EXPECT_GT(e.num("/data/usage/output_tokens"), 0);
  EXPECT_EQ(stack_.gatewayClient().post(kChat, kGood).status, 200);
}

TEST_F(ErrorsTest, ClientLeavingMidStreamClosesUpstreamAndIsMetered) {
  const std::string body =
      R"({"model":"gpt-test-1","stream":true,"messages":[{"role":"user","content":"hi"}]})";
  auto client = stack_.gatewayClient();
  auto partial = client.postAndLeave(kChat, body, 1,
                                     {{"x-mock-chunks", "50"},
                                      {"x-mock-chunk-delay-ms", "20"},
                                      {"x-mock-completion-tokens", "200"}});
  EXPECT_EQ(partial.status, 200);
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "client_disconnect");
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  // The upstream call was closed before the mock finished writing it.
  Json calls(stack_.mockCalls());
  EXPECT_FALSE(calls.boolean("/calls/0/completed"));
}

}  // namespace
}  // namespace tollgate::testing
