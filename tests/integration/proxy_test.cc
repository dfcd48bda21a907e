// The metered proxy path end to end: the gateway and the mock upstream as real processes.
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";

std::string chatBody(const std::string& model, bool stream, const std::string& extra = "") {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"Say hello"}])" +
         (stream ? R"(,"stream":true)" : "") + extra + "}";
}

Headers mockHeaders(int prompt, int completion, int chunks = 4) {
  return {{"x-mock-prompt-tokens", std::to_string(prompt)},
          {"x-mock-completion-tokens", std::to_string(completion)},
          {"x-mock-chunks", std::to_string(chunks)},
          {"x-team", "fraud-platform"},
          {"x-project", "fraud-detector-v2"},
          {"authorization", "Bearer client-gateway-key"}};
}

class ProxyTest : public ::testing::Test {
 protected:
  Stack stack_;
};

TEST_F(ProxyTest, NonStreamingBodyIsByteIdenticalToDirectCall) {
  const auto headers = mockHeaders(1500, 400);
  auto direct = stack_.mockClient().post(kChat, chatBody("gpt-test-1", false), headers);
  auto via = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1", false), headers);
  ASSERT_EQ(direct.status, 200) << direct.body;
  ASSERT_EQ(via.status, 200) << via.body;
  EXPECT_EQ(via.body, direct.body);
  EXPECT_EQ(via.header("content-type"), direct.header("content-type"));
  EXPECT_EQ(via.header("x-request-id").size(), 32u);
}

TEST_F(ProxyTest, NonStreamingCallIsPricedExactly) {
  auto via =
      stack_.gatewayClient().post(kChat, chatBody("gpt-test-1", false), mockHeaders(1500, 400));
  ASSERT_EQ(via.status, 200) << via.body;
  auto events = stack_.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  Json e(events[0]);
  ASSERT_TRUE(e.ok()) << events[0];
  EXPECT_EQ(e.str("/specversion"), "1.0");
  EXPECT_EQ(e.str("/type"), "dev.tollgate.llm.usage.v1");
  EXPECT_EQ(e.str("/source"), "tollgate://itest");
  EXPECT_EQ(e.str("/subject"), "fraud-platform");
  EXPECT_EQ(e.str("/data/request_id"), via.header("x-request-id"));
  EXPECT_EQ(e.str("/data/team"), "fraud-platform");
  EXPECT_EQ(e.str("/data/project"), "fraud-detector-v2");
  EXPECT_EQ(e.str("/data/upstream"), "mock");
  EXPECT_EQ(e.str("/data/outcome"), "ok");
  EXPECT_EQ(e.num("/data/status"), 200);
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 1500);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 400);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
  EXPECT_TRUE(e.boolean("/data/priced"));
  EXPECT_EQ(e.str("/data/price_ref"), "itest-1/gpt-test*");
  EXPECT_EQ(e.str("/data/cost/input"), "0.0045");
  EXPECT_EQ(e.str("/data/cost/output"), "0.0048");
  EXPECT_EQ(e.str("/data/cost/total"), "0.0093");
  EXPECT_EQ(e.str("/data/trace_id").size(), 32u);
}

TEST_F(ProxyTest, StreamWithoutIncludeUsageIsByteIdenticalToDirectAndMetered) {
  const auto headers = mockHeaders(1500, 400, 6);
  auto direct = stack_.mockClient().post(kChat, chatBody("gpt-test-1", true), headers);
  auto via = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1", true), headers);
  ASSERT_EQ(via.status, 200) << via.body;
  ASSERT_TRUE(via.complete);
  EXPECT_EQ(via.header("content-type"), direct.header("content-type"));
  EXPECT_EQ(via.body, direct.body);  // the usage chunk the gateway asked for is hidden
  EXPECT_EQ(via.body.find("\"usage\""), std::string::npos);

  auto events = stack_.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  Json e(events[0]);
  EXPECT_TRUE(e.boolean("/data/stream"));
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 1500);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 400);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
  EXPECT_EQ(e.str("/data/cost/total"), "0.0093");

  // The upstream was asked for usage on the client's behalf.
  Json calls(stack_.mockCalls());
  EXPECT_TRUE(calls.boolean("/calls/1/include_usage"));
}

// events.sink: none, the "both off" baseline of the metering-cost benchmark: the request goes
// upstream unchanged (no include_usage asked for), the answer comes back unread, nothing is
// booked.
TEST(ProxyWithoutMetering, CallsAreRelayedUnchangedAndNothingIsBooked) {
  StackOptions options;
  options.events_sink = "none";
  Stack stack(options);
  const auto headers = mockHeaders(1500, 400, 6);
  auto direct = stack.mockClient().post(kChat, chatBody("gpt-test-1", true), headers);
  auto via = stack.gatewayClient().post(kChat, chatBody("gpt-test-1", true), headers);
  ASSERT_EQ(via.status, 200) << via.body;
  ASSERT_TRUE(via.complete);
  EXPECT_EQ(via.body, direct.body);
  auto plain = stack.gatewayClient().post(kChat, chatBody("gpt-test-1", false), headers);
  ASSERT_EQ(plain.status, 200) << plain.body;

  Json calls(stack.mockCalls());
  EXPECT_TRUE(calls.boolean("/calls/1/stream"));  // the gateway's streamed call, as recorded
  EXPECT_FALSE(calls.boolean("/calls/1/include_usage"));
  EXPECT_TRUE(stack.waitForEvents(1, std::chrono::milliseconds(300)).empty());
  EXPECT_EQ(stack.metric("tollgate_responses_total{code=\"2xx\"}"), 2);
}

TEST_F(ProxyTest, StreamWithIncludeUsageReceivesTheUsageChunk) {
  const std::string body =
      chatBody("gpt-test-1", true, R"(,"stream_options":{"include_usage":true})");
  const auto headers = mockHeaders(1500, 400);
  auto direct = stack_.mockClient().post(kChat, body, headers);
  auto via = stack_.gatewayClient().post(kChat, body, headers);
  ASSERT_EQ(via.status, 200);
  EXPECT_EQ(via.body, direct.body);
  EXPECT_NE(via.body.find("\"prompt_tokens\":1500,"), std::string::npos);
  auto events = stack_.waitForEvents(1);
  Json e(events.at(0));
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 400);
  EXPECT_EQ(e.str("/data/cost/total"), "0.0093");
}

TEST_F(ProxyTest, ExactlyOneEventPerCallWithUniqueIds) {
  auto client = stack_.gatewayClient();
  std::set<std::string> request_ids;
  for (int i = 0; i < 20; ++i) {
    auto r = client.post(kChat, chatBody("gpt-4o-mini", i % 2 == 0), mockHeaders(100 + i, 10 + i));
    ASSERT_EQ(r.status, 200);
    request_ids.insert(r.header("x-request-id"));
  }
  auto events = stack_.waitForEvents(20);
  ASSERT_EQ(events.size(), 20u);
  std::set<std::string> event_ids;
  std::set<std::string> event_request_ids;
  for (int i = 0; i < 20; ++i) {
    Json e(events[i]);
    event_ids.insert(e.str("/id"));
    event_request_ids.insert(e.str("/data/request_id"));
  }
  EXPECT_EQ(event_ids.size(), 20u);
  EXPECT_EQ(event_request_ids, request_ids);
  // One connection from the client, so one keep-alive connection to the upstream suffices:
  // opened by the first call, reused by the 19 others.
  EXPECT_EQ(stack_.metric("tollgate_upstream_pool_connected_total"), 1);
  EXPECT_EQ(stack_.metric("tollgate_upstream_pool_reused_total"), 19);
}

TEST_F(ProxyTest, CachedTokensArePricedAsCacheReadsNotTwice) {
  auto headers = mockHeaders(1000, 100);
  headers.emplace_back("x-mock-cached-tokens", "400");
  auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-4o-mini", false), headers);
  ASSERT_EQ(r.status, 200);
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 1000);
  EXPECT_EQ(e.num("/data/usage/cache_read_tokens"), 400);
  EXPECT_EQ(e.str("/data/cost/input"), "0.00009");       // 600 x 0.15 / 1M
  EXPECT_EQ(e.str("/data/cost/cache_read"), "0.00003");  // 400 x 0.075 / 1M
  EXPECT_EQ(e.str("/data/cost/output"), "0.00006");      // 100 x 0.60 / 1M
  EXPECT_EQ(e.str("/data/cost/total"), "0.00018");
}

TEST_F(ProxyTest, GatewayCredentialIsNeverForwardedAndUpstreamCredentialIsInjected) {
  auto r = stack_.gatewayClient().post(kChat, chatBody("gpt-test-1", false), mockHeaders(10, 10));
  ASSERT_EQ(r.status, 200);
  const std::string calls = stack_.mockCalls();
  Json j(calls);
  EXPECT_EQ(j.str("/calls/0/headers/authorization"), "Bearer upstream-secret-for-tests");
  EXPECT_EQ(calls.find("client-gateway-key"), std::string::npos);
  EXPECT_EQ(j.str("/calls/0/headers/x-team"), "<missing /calls/0/headers/x-team>");
  const std::string traceparent = j.str("/calls/0/headers/traceparent");
  ASSERT_EQ(traceparent.size(), 55u);
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(traceparent.substr(3, 32), e.str("/data/trace_id"));
}

TEST_F(ProxyTest, ClientTraceIdIsKept) {
  auto headers = mockHeaders(10, 10);
  headers.emplace_back("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_EQ(stack_.gatewayClient().post(kChat, chatBody("gpt-test-1", false), headers).status, 200);
  Json e(stack_.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_F(ProxyTest, HopByHopHeadersAreNotForwarded) {
  auto headers = mockHeaders(10, 10);
  headers.emplace_back("connection", "keep-alive, x-secret-hop");
  headers.emplace_back("x-secret-hop", "must-not-pass");
  headers.emplace_back("x-end-to-end", "must-pass");
  ASSERT_EQ(stack_.gatewayClient().post(kChat, chatBody("gpt-test-1", false), headers).status, 200);
  const std::string calls = stack_.mockCalls();
  EXPECT_EQ(calls.find("must-not-pass"), std::string::npos);
  EXPECT_NE(calls.find("must-pass"), std::string::npos);
}

}  // namespace
}  // namespace tollgate::testing
