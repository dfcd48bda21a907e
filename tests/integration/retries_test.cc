// Retries and fallbacks on answers (429, 5xx), TTFT timeouts and resets, one cost event per
// attempt (docs/upstreams.md): the real gateway in front of mock upstreams that fail on purpose.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/raw_upstream.h"
#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";

std::string chat(const std::string& model, bool stream = false) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"hi"}])" +
         (stream ? R"(,"stream":true)" : "") + "}";
}

// A mock_upstream of its own whose every answer follows `args` (--default-status 429, ...).
class Mock {
 public:
  explicit Mock(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Process>("mock_upstream", argv);
    const auto line =
        process_->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
    EXPECT_TRUE(line.has_value());
    if (line) address_ = *line;
    const auto colon = address_.rfind(':');
    port_ = static_cast<unsigned short>(std::stoi(address_.substr(colon + 1)));
  }
  std::string url() const { return "http://" + address_; }
  // The calls it received (GET /mock/calls).
  size_t calls() const {
    const auto body = HttpClient("127.0.0.1", port_).get("/mock/calls").body;
    size_t n = 0;
    for (size_t at = body.find("\"seq\""); at != std::string::npos;
         at = body.find("\"seq\"", at + 1))
      ++n;
    return n;
  }

 private:
  std::unique_ptr<Process> process_;
  std::string address_;
  unsigned short port_ = 0;
};

// Events by id.
std::map<std::string, Json*> byId(std::vector<std::unique_ptr<Json>>& parsed,
                                  const std::vector<std::string>& lines) {
  std::map<std::string, Json*> out;
  for (const auto& line : lines) {
    parsed.push_back(std::make_unique<Json>(line));
    out[parsed.back()->str("/id")] = parsed.back().get();
  }
  return out;
}

// An event's decimal USD amount in picodollars (12 decimals at most), -1 when unreadable.
int64_t pico(const Json& event, const char* pointer) {
  const std::string text = event.str(pointer);
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 12) return -1;
  fraction.resize(12, '0');
  for (const char c : whole + fraction) {
    if (c < '0' || c > '9') return -1;
  }
  return std::stoll(whole) * 1'000'000'000'000 + std::stoll(fraction);
}

// The primary speaks OpenAI chat for acme-* (priced $2 / $8 per 1M); its fallback is another
// provider's model (claude-sonnet-4-5, $3 / $15) behind an OpenAI-compatible endpoint: the
// stack's mock, which answers with the model it was asked for.
std::string fallbackPair(const std::string& primary_url, const std::string& primary_extra,
                         const std::string& on) {
  return "  - name: primary\n    dialect: openai\n    models: [\"acme-*\"]\n"
         "    base_url: \"" +
         primary_url + "\"\n" + primary_extra +
         "    fallbacks:\n      - {upstream: claude-compat, model: claude-sonnet-4-5, on: [" + on +
         "]}\n"
         "  - name: claude-compat\n    dialect: openai\n    models: [\"claude-*\"]\n"
         "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n";
}

const std::string kPrices =
    "  \"acme-*\": { input: \"2.00\", output: \"8.00\" }\n"
    "  \"claude-sonnet-4-5*\": { input: \"3.00\", output: \"15.00\" }\n";

// The two events of a call that fell back once: the failed first attempt, then the fallback's
// answer, each priced at its own model.
void expectFallbackEvents(Stack& stack, const std::string& request_id, int first_status) {
  const auto lines = stack.waitForEvents(2);
  ASSERT_EQ(lines.size(), 2u);
  std::vector<std::unique_ptr<Json>> parsed;
  auto events = byId(parsed, lines);
  ASSERT_EQ(events.count(request_id), 1u);
  ASSERT_EQ(events.count(request_id + "-2"), 1u);
  const Json& first = *events[request_id];
  const Json& second = *events[request_id + "-2"];
  EXPECT_EQ(first.num("/data/attempt"), 1);
  EXPECT_FALSE(first.boolean("/data/final"));
  EXPECT_EQ(first.str("/data/upstream"), "primary");
  EXPECT_EQ(first.num("/data/status"), first_status);
  EXPECT_EQ(first.str("/data/model_requested"), "acme-chat-1");
  EXPECT_EQ(first.str("/data/model"), "acme-chat-1");
  EXPECT_EQ(first.str("/data/price_ref"), "itest-1/acme-*");
  EXPECT_EQ(first.num("/data/upstream_endpoint/index"), 0);
  EXPECT_EQ(second.num("/data/attempt"), 2);
  EXPECT_TRUE(second.boolean("/data/final"));
  EXPECT_EQ(second.str("/data/request_id"), request_id);
  EXPECT_EQ(second.str("/data/upstream"), "claude-compat");
  EXPECT_EQ(second.str("/data/model_requested"), "acme-chat-1");  // the client's
  EXPECT_EQ(second.str("/data/model"), "claude-sonnet-4-5");
  EXPECT_EQ(second.str("/data/price_ref"), "itest-1/claude-sonnet-4-5*");
  EXPECT_EQ(second.num("/data/status"), 200);
  // The mock's default usage, 12 prompt and 16 completion tokens, at the fallback's prices;
  // the failed attempt reported none and costs nothing.
  const int64_t fallback_pico = 12 * 3'000'000 + 16 * 15'000'000;
  EXPECT_EQ(pico(first, "/data/cost/total"), 0);
  EXPECT_EQ(pico(second, "/data/cost/total"), fallback_pico);
  EXPECT_EQ(pico(first, "/data/cost/total") + pico(second, "/data/cost/total"), 276'000'000);
}

TEST(Retries, A429FallsBackToAnotherProvidersModelWithOneEventPerAttempt) {
  Mock limited({"--default-status", "429"});
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml = fallbackPair(limited.url(), "", "\"429\"");
  options.extra_prices_yaml = kPrices;
  Stack stack(options);
  const auto r = stack.gatewayClient().post(kChat, chat("acme-chat-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  // The client got the fallback's answer only, for the model the fallback was asked for.
  EXPECT_EQ(Json(r.body).str("/model"), "claude-sonnet-4-5");
  EXPECT_EQ(limited.calls(), 1u);
  EXPECT_NE(stack.mockCalls().find("\"claude-sonnet-4-5\""), std::string::npos);
  EXPECT_EQ(stack.metric("tollgate_upstream_fallbacks_total"), 1);
  expectFallbackEvents(stack, r.header("x-request-id"), 429);
}

// Spend control is told of every attempt: the call's hold is settled once, with the sum of its
// attempts' costs, never released because the first attempt failed.
TEST(Retries, ABudgetIsChargedTheSumOfACallsAttemptsOnce) {
  Mock limited({"--default-status", "429"});
  TempDir state;
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml = fallbackPair(limited.url(), "", "\"429\"");
  options.extra_prices_yaml = kPrices;
  options.extra_yaml =
      "budgets:\n  - { name: all, scope: {}, period: month, limit_usd: \"10\" }\n"
      "spend_state: { backend: local, file: \"" +
      state.file("spend.tsv") + "\" }\n";
  Stack stack(options);
  const auto r = stack.gatewayClient().post(kChat, chat("acme-chat-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  const auto lines = stack.waitForEvents(2);
  ASSERT_EQ(lines.size(), 2u);
  int64_t events_pico = 0;
  for (const auto& line : lines) events_pico += pico(Json(line), "/data/cost/total");
  EXPECT_EQ(events_pico, 276'000'000);
  EXPECT_EQ(stack.metric("tollgate_spend_holds_settled_total"), 1);
  EXPECT_EQ(stack.metric("tollgate_spend_holds_released_total"), 0);
  const std::string metrics = stack.adminClient().get("/metrics").body;
  EXPECT_NE(metrics.find("\ntollgate_budget_spend_usd{budget=\"all\"} 0.000276\n"),
            std::string::npos)
      << metrics.substr(metrics.find("tollgate_budget_spend_usd"), 200);
}

TEST(Retries, ATtftTimeoutFallsBackBeforeTheSlowUpstreamAnswers) {
  Mock slow({"--default-ttft-ms", "5000"});
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      fallbackPair(slow.url(), "    ttft_timeout_ms: 300\n", "ttft_timeout");
  options.extra_prices_yaml = kPrices;
  Stack stack(options);
  const auto started = std::chrono::steady_clock::now();
  const auto r = stack.gatewayClient().post(kChat, chat("acme-chat-1"));
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r.body).str("/model"), "claude-sonnet-4-5");
  // The slow upstream would have answered after 5 s; the client did not wait for it.
  EXPECT_LT(waited, std::chrono::seconds(4));
  EXPECT_EQ(slow.calls(), 1u);
  expectFallbackEvents(stack, r.header("x-request-id"), 504);
  const auto lines = stack.waitForEvents(2);
  for (const auto& line : lines) {
    const Json event(line);
    if (event.num("/data/attempt") == 1) {
      EXPECT_EQ(event.str("/data/outcome"), "timeout");
    }
  }
}

// A stream whose head comes at once but whose first event does not (a server that answers
// before its first token): the head is held back, and the TTFT timeout still falls back.
TEST(Retries, AStreamWithoutItsFirstByteInTimeFallsBackThoughItsHeadCame) {
  RawUpstream* upstream = nullptr;
  RawUpstream head_only([&upstream](const RawUpstream::Call& call) {
    RawUpstream::writeAll(call.fd,
                          "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                          "transfer-encoding: chunked\r\n\r\n");
    // The first token never comes while the test runs (bounded: 5 s, or the upstream's end).
    for (int i = 0; i < 250 && !upstream->stopping(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  });
  upstream = &head_only;
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      fallbackPair("http://127.0.0.1:" + std::to_string(head_only.port()),
                   "    ttft_timeout_ms: 300\n", "ttft_timeout");
  options.extra_prices_yaml = kPrices;
  Stack stack(options);
  const auto r = stack.gatewayClient().post(kChat, chat("acme-chat-1", true));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_NE(r.body.find("claude-sonnet-4-5"), std::string::npos) << r.body;
  EXPECT_EQ(head_only.requests().size(), 1u);
  const auto lines = stack.waitForEvents(2);
  ASSERT_EQ(lines.size(), 2u);
  std::vector<std::unique_ptr<Json>> parsed;
  auto events = byId(parsed, lines);
  const std::string id = r.header("x-request-id");
  ASSERT_EQ(events.count(id), 1u);
  EXPECT_EQ(events[id]->num("/data/status"), 504);
  EXPECT_EQ(events[id]->str("/data/outcome"), "timeout");
  EXPECT_FALSE(events[id]->boolean("/data/final"));
  ASSERT_EQ(events.count(id + "-2"), 1u);
  EXPECT_EQ(events[id + "-2"]->str("/data/model"), "claude-sonnet-4-5");
  EXPECT_TRUE(events[id + "-2"]->boolean("/data/final"));
}

TEST(Retries, Without5xxInItsOnListAFallbackIsNotTakenAndTheAnswerIsRelayed) {
  Mock failing({"--default-status", "503"});
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml = fallbackPair(failing.url(), "", "\"429\"");
  Stack stack(options);
  const auto r = stack.gatewayClient().post(kChat, chat("acme-chat-1"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(stack.mockCalls().find("claude"), std::string::npos);
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  // A call of one attempt writes no attempt fields: its event is what it always was.
  EXPECT_EQ(lines[0].find("\"attempt\""), std::string::npos);
}

// Three endpoints (one mock, told apart by a header) that all answer 503.
std::string outagePool(const std::string& url, const std::string& budget) {
  std::string yaml =
      "  - name: down\n    dialect: openai\n    models: [\"down-*\"]\n"
      "    endpoints:\n";
  for (int i = 0; i < 3; ++i) {
    yaml +=
        "      - {url: \"" + url + "\", headers: {x-endpoint: \"" + std::to_string(i) + "\"}}\n";
  }
  return yaml +
         "    balancer: round_robin\n"
         "    max_attempts: 3\n"
         "    outlier_detection: {consecutive_5xx: 0}\n"
         "    retry_budget: " +
         budget + "\n";
}

TEST(Retries, UnderATotal503OutageTheRetryBudgetBoundsAttemptsAtTheUpstream) {
  Mock down({"--default-status", "503"});
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      outagePool(down.url(), "{ratio: 0.1, min_per_second: 0, window_ms: 10000}");
  Stack stack(options);
  auto client = stack.gatewayClient();
  constexpr int kCalls = 30;
  for (int i = 0; i < kCalls; ++i) {
    const auto r = client.post(kChat, chat("down-model"));
    ASSERT_EQ(r.status, 503) << "call " << i << ": " << r.body;  // the last answer, relayed
  }
  // 10 % of 30 calls: at most 3 retries in the window; every attempt reached the mock and has
  // its event.
  const size_t attempts = down.calls();
  EXPECT_GE(attempts, static_cast<size_t>(kCalls));
  EXPECT_LE(attempts, static_cast<size_t>(kCalls + 3));
  EXPECT_EQ(stack.waitForEvents(attempts).size(), attempts);
  EXPECT_GE(stack.metric("tollgate_upstream_endpoint_retries_total"), 1);
  EXPECT_LE(stack.metric("tollgate_upstream_endpoint_retries_total"), 3);
}

TEST(Retries, WithBudgetToSpareACallMakesAtMostMaxAttemptsEachBooked) {
  Mock down({"--default-status", "503"});
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      outagePool(down.url(), "{ratio: 1, min_per_second: 1000, window_ms: 10000}");
  Stack stack(options);
  auto client = stack.gatewayClient();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const auto r = client.post(kChat, chat("down-model"));
    ASSERT_EQ(r.status, 503) << r.body;
    ids.push_back(r.header("x-request-id"));
  }
  EXPECT_EQ(down.calls(), 15u);  // max_attempts 3, over the three endpoints
  const auto lines = stack.waitForEvents(15);
  ASSERT_EQ(lines.size(), 15u);
  std::vector<std::unique_ptr<Json>> parsed;
  auto events = byId(parsed, lines);
  for (const auto& id : ids) {
    std::set<int64_t> endpoints;
    for (int n = 1; n <= 3; ++n) {
      const std::string event_id = n == 1 ? id : id + "-" + std::to_string(n);
      ASSERT_EQ(events.count(event_id), 1u) << event_id;
      const Json& event = *events[event_id];
      EXPECT_EQ(event.num("/data/attempt"), n);
      EXPECT_EQ(event.boolean("/data/final"), n == 3);
      EXPECT_EQ(event.num("/data/status"), 503);
      endpoints.insert(event.num("/data/upstream_endpoint/index"));
    }
    EXPECT_EQ(endpoints.size(), 3u) << id;  // each endpoint once
  }
}

TEST(Retries, NoRetryOnceAStreamedByteWasRelayed) {
  // The primary streams two content events, then resets the connection.
  Mock cutting({"--default-reset-after", "2", "--default-chunks", "6"});
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml = fallbackPair(cutting.url(), "", "connect_error, \"429\", 5xx");
  Stack stack(options);
  const auto r = stack.gatewayClient().post(kChat, chat("acme-chat-1", true));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("data:"), std::string::npos) << r.body;  // relayed before the cut
  EXPECT_FALSE(r.complete && r.error.empty()) << "a cut stream looked whole";
  EXPECT_EQ(cutting.calls(), 1u);
  EXPECT_EQ(stack.mockCalls().find("claude"), std::string::npos);  // the fallback never asked
  EXPECT_EQ(stack.metric("tollgate_upstream_fallbacks_total"), 0);
  const auto lines = stack.waitForEvents(1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("\"attempt\""), std::string::npos);
}

// A pool "pool" of two endpoints: a scripted upstream, then the stack's mock.
std::string rawThenMockPool(unsigned short raw_port) {
  return "  - name: pool\n    dialect: openai\n    models: [\"pool-*\"]\n    endpoints:\n"
         "      - url: \"http://127.0.0.1:" +
         std::to_string(raw_port) +
         "\"\n"
         "      - url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
         "    balancer: round_robin\n";
}

TEST(Retries, AResetAfterTheRequestWasSentMovesToAnotherEndpointAndIsBooked) {
  // Reads the request, then resets the connection without a byte of answer.
  RawUpstream* upstream = nullptr;
  RawUpstream reset_all([&upstream](const RawUpstream::Call& call) {
    upstream->reset(call);
    return false;
  });
  upstream = &reset_all;
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml = rawThenMockPool(reset_all.port());
  Stack stack(options);
  auto client = stack.gatewayClient();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    const auto r = client.post(kChat, chat("pool-a"));
    ASSERT_EQ(r.status, 200) << "call " << i << ": " << r.body;
    ids.push_back(r.header("x-request-id"));
  }
  const size_t resets = reset_all.requests().size();
  EXPECT_GE(resets, 1u);
  const auto lines = stack.waitForEvents(4 + resets);
  ASSERT_EQ(lines.size(), 4 + resets);
  std::vector<std::unique_ptr<Json>> parsed;
  auto events = byId(parsed, lines);
  size_t reset_attempts = 0;
  for (const auto& id : ids) {
    ASSERT_EQ(events.count(id), 1u);
    if (events.count(id + "-2") == 0) continue;  // answered by the mock at once
    ++reset_attempts;
    EXPECT_EQ(events[id]->num("/data/status"), 502);
    EXPECT_EQ(events[id]->str("/data/outcome"), "upstream_error");
    EXPECT_FALSE(events[id]->boolean("/data/final"));
    EXPECT_EQ(events[id + "-2"]->num("/data/status"), 200);
    EXPECT_TRUE(events[id + "-2"]->boolean("/data/final"));
  }
  EXPECT_EQ(reset_attempts, resets);
}

TEST(Retries, ARetryAfterKeepsCallsAwayFromTheEndpointWithoutWaiting) {
  RawUpstream limited([](const RawUpstream::Call& call) {
    RawUpstream::writeAll(call.fd,
                          "HTTP/1.1 429 Too Many Requests\r\nretry-after: 60\r\n"
                          "content-type: application/json\r\ncontent-length: 35\r\n\r\n"
                          R"({"error":{"message":"slow down"}}  )");
    return true;
  });
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml = rawThenMockPool(limited.port());
  Stack stack(options);
  auto client = stack.gatewayClient();
  for (int i = 0; i < 6; ++i) {
    const auto r = client.post(kChat, chat("pool-a"));
    ASSERT_EQ(r.status, 200) << "call " << i << ": " << r.body;
  }
  // Asked once: its 429 was discarded for the other endpoint, and its Retry-After of a minute
  // kept every later call away from it.
  EXPECT_EQ(limited.requests().size(), 1u);
  EXPECT_EQ(stack.waitForEvents(7).size(), 7u);
}

}  // namespace
}  // namespace tollgate::testing
