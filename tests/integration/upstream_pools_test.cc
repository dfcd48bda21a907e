// Upstream pools through the real gateway and mock: endpoints that refuse connections, passive
// ejection, active health checks, fallbacks, the retry budget and overload.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <future>
#include <string>
#include <thread>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";

std::string chat(const std::string& model) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}]})";
}

// A pool named `name` serving `model*` whose endpoints are the given ports, then `extra` keys.
std::string poolYaml(const std::string& name, const std::string& model,
                     const std::vector<unsigned short>& ports, const std::string& extra) {
  std::string yaml = "  - name: " + name + "\n    dialect: openai\n    models: [\"" + model +
                     "*\"]\n    endpoints:\n";
  for (auto port : ports)
    yaml += "      - url: \"http://127.0.0.1:" + std::to_string(port) + "\"\n";
  return yaml + extra;
}

// Polls `done` every 20 ms for at most `limit`.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(UpstreamPools, ARefusingEndpointCostsNoClientAnErrorAndIsEjected) {
  StackOptions options;
  options.workers = 1;
  const RefusingPort dead_port;
  const unsigned short dead = dead_port.port();
  // The mock's port is only known inside the stack: @MOCK_PORT@.
  options.extra_upstreams_yaml =
      "  - name: pool\n    dialect: openai\n    models: [\"pool-*\"]\n    endpoints:\n"
      "      - url: \"http://127.0.0.1:" +
      std::to_string(dead) +
      "\"\n"
      "      - url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    balancer: round_robin\n"
      "    outlier_detection: {consecutive_connect_failures: 2, base_ejection_ms: 60000}\n";
  Stack stack(options);
  auto client = stack.gatewayClient();
  for (int i = 0; i < 20; ++i) {
    const auto r = client.post(kChat, chat("pool-a"));
    ASSERT_EQ(r.status, 200) << "call " << i << ": " << r.body;
  }
  // Two refusals eject the dead endpoint for a minute: every later call goes to the mock.
  EXPECT_EQ(stack.metric("tollgate_upstream_ejections_total"), 1);
  EXPECT_EQ(stack.metric("tollgate_upstream_endpoint_retries_total"), 2);
  // Each attempt that reached an upstream is one event; refused connects reached none.
  EXPECT_EQ(stack.waitForEvents(20).size(), 20u);
}

TEST(UpstreamPools, AnEndpointKilledBetweenCallsCostsNoClientAnError) {
  Process second("mock_upstream", {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"});
  const auto line = second.waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
  ASSERT_TRUE(line.has_value());
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      "  - name: pool\n    dialect: openai\n    models: [\"pool-*\"]\n    endpoints:\n"
      "      - url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "      - url: \"http://" +
      *line + "\"\n    balancer: round_robin\n";
  Stack stack(options);
  auto client = stack.gatewayClient();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(client.post(kChat, chat("pool-a")).status, 200);
  // Both endpoints hold pooled connections now; one dies between calls.
  second.signal(SIGKILL);
  ASSERT_TRUE(second.wait(std::chrono::seconds(10)).has_value());
  for (int i = 0; i < 20; ++i) {
    const auto r = client.post(kChat, chat("pool-b"));
    ASSERT_EQ(r.status, 200) << "call " << i << " after the kill: " << r.body;
  }
  EXPECT_GE(stack.metric("tollgate_upstream_endpoint_retries_total"), 1);
  EXPECT_EQ(stack.metric("tollgate_upstream_ejections_total"), 1);
}

TEST(UpstreamPools, FailedHealthChecksTakeAnEndpointOutBeforeAnyCall) {
  StackOptions options;
  options.workers = 1;
  const RefusingPort dead_port;
  const unsigned short dead = dead_port.port();
  options.extra_upstreams_yaml =
      "  - name: pool\n    dialect: openai\n    models: [\"pool-*\"]\n    endpoints:\n"
      "      - url: \"http://127.0.0.1:" +
      std::to_string(dead) +
      "\"\n"
      "      - url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    balancer: round_robin\n"
      "    outlier_detection: {consecutive_connect_failures: 0}\n"
      "    health: {path: /mock/calls, interval_ms: 100, timeout_ms: 200, unhealthy_after: 1}\n";
  Stack stack(options);
  ASSERT_TRUE(eventually([&] {
    return stack.gatewayProcess().stderrText().find(
               "upstream endpoint unhealthy upstream=pool "
               "endpoint=0") != std::string::npos;
  })) << stack.gatewayProcess().stderrText();
  auto client = stack.gatewayClient();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(client.post(kChat, chat("pool-a")).status, 200);
  EXPECT_EQ(stack.metric("tollgate_upstream_endpoint_retries_total"), 0);
}

TEST(UpstreamPools, AConnectErrorFallsBackToTheNextUpstream) {
  StackOptions options;
  options.workers = 1;
  const RefusingPort dead;
  options.extra_upstreams_yaml =
      poolYaml("primary", "fb-", {dead.port()}, "    fallbacks: [backup]\n") +
      "  - name: backup\n    dialect: openai\n    models: [\"*\"]\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n";
  Stack stack(options);
  const auto r = stack.gatewayClient().post(kChat, chat("fb-model"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stack.metric("tollgate_upstream_fallbacks_total"), 1);
  const auto events = stack.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Json(events[0]).str("/data/upstream"), "backup");
}

TEST(UpstreamPools, UnderATotalOutageTheRetryBudgetBoundsAttempts) {
  StackOptions options;
  options.workers = 1;
  // Three dead endpoints, max_attempts 3: without a budget 30 calls would make 90 attempts.
  const RefusingPort dead[3];
  options.extra_upstreams_yaml =
      poolYaml("down", "down-", {dead[0].port(), dead[1].port(), dead[2].port()},
               "    outlier_detection: {consecutive_connect_failures: 0}\n"
               "    retry_budget: {ratio: 0.1, min_per_second: 0, window_ms: 10000}\n");
  Stack stack(options);
  auto client = stack.gatewayClient();
  for (int i = 0; i < 30; ++i) {
    const auto r = client.post(kChat, chat("down-model"));
    ASSERT_EQ(r.status, 502) << r.body;
  }
  // 10 % of 30 calls: at most 3 retries in the window, the rest denied.
  EXPECT_LE(stack.metric("tollgate_upstream_endpoint_retries_total"), 3);
  EXPECT_GE(stack.metric("tollgate_upstream_retries_denied_total"), 27);
}

TEST(UpstreamPools, BeyondMaxOutstandingTheAnswerIs503AtOnce) {
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      "  - name: small\n    dialect: openai\n    models: [\"small-*\"]\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n    max_outstanding: 1\n";
  Stack stack(options);
  auto slow = std::async(std::launch::async, [&] {
    return stack.gatewayClient().post(kChat, chat("small-a"), {{"x-mock-ttft-ms", "800"}});
  });
  // The slow call (answered after 0.8 s, within upstream_response_ms) holds the only slot once
  // the mock has it.
  ASSERT_TRUE(eventually([&] { return stack.mockCalls().find("small-a") != std::string::npos; }));
  const auto r = stack.gatewayClient().post(kChat, chat("small-b"));
  // Answered while the slow call still holds the slot: refused, not queued behind it.
  EXPECT_NE(slow.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Json(r.body).str("/error/code"), "upstream_overloaded");
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(slow.get().status, 200);
  EXPECT_EQ(stack.metric("tollgate_upstream_overloaded_total"), 1);
}

}  // namespace
}  // namespace tollgate::testing
