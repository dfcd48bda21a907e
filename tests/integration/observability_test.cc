// What SREs see, end to end: spans at a real OTLP/HTTP receiver (Node, decoding with the
// OpenTelemetry JS protobuf definitions), /metrics checked by promtool and scraped by a real
// Prometheus server, and the access log.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";
const std::string kNodeDir = std::string(TOLLGATE_SOURCE_DIR) + "/tests/integration/node";

std::string chatBody(const std::string& model, bool stream) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"Say hello"}])" +
         (stream ? R"(,"stream":true)" : "") + "}";
}

// Polls `probe` until it returns true or `timeout` passes (the gateway exports and Prometheus
// scrapes on their own threads and schedules).
template <typename Fn>
bool eventually(Fn probe, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

class OtlpReceiver {
 public:
  explicit OtlpReceiver(const std::string& extra_args = "") {
    std::vector<std::string> argv = {"/usr/bin/env", "node", kNodeDir + "/otlp_receiver.mjs"};
    std::istringstream in(extra_args);
    for (std::string a; in >> a;) argv.push_back(a);
    process_ = std::make_unique<Process>("otlp_receiver", argv);
    auto line = process_->waitForLine("otlp_receiver listening on ", std::chrono::seconds(20));
    if (!line) {
      throw std::runtime_error("otlp_receiver did not start (npm ci --prefix " + kNodeDir +
                               "?): " + process_->stderrText());
    }
    at_ = parseHostPort(*line);
  }
  ~OtlpReceiver() {
    process_->signal(SIGTERM);
    process_->wait(std::chrono::seconds(5));
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(at_.port); }
  std::string spans() { return HttpClient(at_.host, at_.port).get("/spans").body; }

 private:
  std::unique_ptr<Process> process_;
  HostPort at_;
};

std::string telemetryYaml(const std::string& endpoint, const std::string& ratio,
                          const std::string& extra = "") {
  // Appended after the server: section, so these are top-level keys.
  return "telemetry:\n"
         "  otlp_endpoint: \"" +
         endpoint +
         "\"\n"
         "  sample_ratio: " +
         ratio +
         "\n"
         "  service_name: tollgate-itest\n"
         "  export_interval_ms: 50\n" +
         extra;
}

struct Span {
  std::string trace_id, span_id, parent_span_id, name, trace_state;
  int64_t kind = 0;
  int64_t status = 0;
  std::map<std::string, std::string> attrs;  // values as JSON text
};

std::vector<Span> parseSpans(const std::string& body) {
  std::vector<Span> out;
  Json j(body);
  if (!j.ok()) return out;
  simdjson::dom::array spans;
  if (j.root()["spans"].get(spans) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element s : spans) {
    Span span;
    span.trace_id = std::string(std::string_view(s["traceId"]));
    span.span_id = std::string(std::string_view(s["spanId"]));
    span.parent_span_id = std::string(std::string_view(s["parentSpanId"]));
    span.trace_state = std::string(std::string_view(s["traceState"]));
    span.name = std::string(std::string_view(s["name"]));
    span.kind = int64_t(s["kind"]);
    span.status = int64_t(s["status"]["code"]);
    for (auto [key, value] : simdjson::dom::object(s["attributes"])) {
      span.attrs[std::string(key)] = simdjson::minify(value);
    }
    out.push_back(std::move(span));
  }
  return out;
}

const Span* findSpan(const std::vector<Span>& spans, const std::string& trace_id, int64_t kind) {
  for (const auto& s : spans) {
    if (s.trace_id == trace_id && s.kind == kind) return &s;
  }
  return nullptr;
}

TEST(ObservabilityTest, SpansReachARealOtlpReceiverAndJoinTheCostEvent) {
  // The receiver answers the first export 503 (Retry-After: 0): the batch must be resent.
  OtlpReceiver receiver("--fail-first 1 --fail-status 503 --retry-after 0");
  StackOptions options;
  options.extra_yaml = telemetryYaml(receiver.endpoint(), "1.0");
  Stack stack(options);

  const std::string client_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string client_span = "00f067aa0ba902b7";
  Headers headers = {{"x-mock-prompt-tokens", "1500"},
                     {"x-mock-completion-tokens", "400"},
                     {"x-mock-cached-tokens", "300"},
                     {"x-mock-reasoning-tokens", "120"},
                     {"x-team", "fraud-platform"},
                     {"x-project", "fraud-detector-v2"},
                     {"x-cost-center", "cc-42"},
                     {"x-workload-type", "batch"},
                     {"traceparent", "00-" + client_trace + "-" + client_span + "-01"},
                     {"tracestate", "vendor=abc"}};
  auto res = stack.gatewayClient().post(kChat, chatBody("o3-mini", true), headers);
  ASSERT_EQ(res.status, 200) << res.body;

  std::vector<Span> spans;
  ASSERT_TRUE(eventually(
      [&] {
        spans = parseSpans(receiver.spans());
        return spans.size() >= 3;
      },
      std::chrono::seconds(15)))
      << receiver.spans();
  const Span* server = findSpan(spans, client_trace, 2);
  const Span* client = findSpan(spans, client_trace, 3);
  ASSERT_NE(server, nullptr) << receiver.spans();
  ASSERT_NE(client, nullptr) << receiver.spans();

  // Names, kinds, links: client span -> gateway SERVER span -> gateway CLIENT span.
  EXPECT_EQ(server->name, "chat o3-mini");
  EXPECT_EQ(client->name, "chat o3-mini");
  EXPECT_EQ(server->parent_span_id, client_span);
  EXPECT_EQ(client->parent_span_id, server->span_id);
  EXPECT_EQ(server->trace_state, "vendor=abc");
  EXPECT_EQ(server->status, 0);

  // The one attempt is the CLIENT span's child and names its endpoint and outcome.
  const Span* attempt = findSpan(spans, client_trace, 1);
  ASSERT_NE(attempt, nullptr) << receiver.spans();
  EXPECT_EQ(attempt->parent_span_id, client->span_id);
  EXPECT_EQ(attempt->attrs.at("tollgate.attempt"), "1");
  EXPECT_EQ(attempt->attrs.at("tollgate.endpoint"), "0");
  EXPECT_EQ(attempt->attrs.at("http.response.status_code"), "200");
  EXPECT_EQ(attempt->attrs.at("server.port"), std::to_string(stack.mock().port));
  EXPECT_EQ(attempt->attrs.count("error.type"), 0u);

  // GenAI attributes equal what the mock sent.
  const auto& a = client->attrs;
  EXPECT_EQ(a.at("gen_ai.operation.name"), R"("chat")");
  EXPECT_EQ(a.at("gen_ai.provider.name"), R"("openai")");
  EXPECT_EQ(a.at("gen_ai.request.model"), R"("o3-mini")");
  EXPECT_EQ(a.at("gen_ai.request.stream"), "true");
  EXPECT_EQ(a.at("gen_ai.usage.input_tokens"), "1500");
  EXPECT_EQ(a.at("gen_ai.usage.output_tokens"), "400");
  EXPECT_EQ(a.at("gen_ai.usage.cache_read.input_tokens"), "300");
  EXPECT_EQ(a.at("gen_ai.usage.reasoning.output_tokens"), "120");
  EXPECT_EQ(a.at("gen_ai.response.finish_reasons"), R"(["stop"])");
  EXPECT_EQ(a.at("server.address"), R"("127.0.0.1")");
  EXPECT_EQ(a.at("server.port"), std::to_string(stack.mock().port));
  EXPECT_EQ(a.at("tollgate.team"), R"("fraud-platform")");
  EXPECT_EQ(a.at("tollgate.project"), R"("fraud-detector-v2")");
  EXPECT_EQ(a.at("tollgate.cost_center"), R"("cc-42")");
  EXPECT_EQ(a.at("tollgate.workload_type"), R"("batch")");
  EXPECT_EQ(a.count("tollgate.ttft_ms"), 1u);
  EXPECT_EQ(a.count("error.type"), 0u);

  // The upstream received traceparent 00-<trace>-<CLIENT span id>-01.
  Json calls(stack.mockCalls());
  ASSERT_TRUE(calls.ok());
  EXPECT_EQ(calls.str("/calls/0/headers/traceparent"),
            "00-" + client_trace + "-" + client->span_id + "-01");
  EXPECT_NE(a.find("gen_ai.response.id"), a.end());

  // The cost event carries the same trace id and the same cost as the span.
  auto events = stack.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  Json e(events[0]);
  EXPECT_EQ(e.str("/data/trace_id"), client_trace);
  EXPECT_EQ(a.at("tollgate.cost_usd"), "\"" + e.str("/data/cost/total") + "\"");

  // Resource attributes, and the 503 was retried.
  Json all(receiver.spans());
  EXPECT_EQ(all.str("/resources/0/service.name"), "tollgate-itest");
  EXPECT_EQ(all.str("/resources/0/service.instance.id"), "itest");
  const std::string metrics = stack.adminClient().get("/metrics").body;
  const auto at = metrics.find("tollgate_build_info{version=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string version = metrics.substr(at + 29, metrics.find('"', at + 29) - at - 29);
  EXPECT_EQ(all.str("/resources/0/service.version"), version);
  EXPECT_EQ(all.num("/failed_on_purpose"), 1);
  EXPECT_EQ(all.num("/rejected"), 0);
}

TEST(ObservabilityTest, RootTraceStartedByTheGatewayHasNoParentAndJoinsTheEvent) {
  OtlpReceiver receiver;
  StackOptions options;
  options.extra_yaml = telemetryYaml(receiver.endpoint(), "1.0");
  Stack stack(options);
  auto res = stack.gatewayClient().post(
      kChat, chatBody("gpt-4o-mini", false),
      {{"x-mock-prompt-tokens", "21"}, {"x-mock-completion-tokens", "7"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto events = stack.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  const std::string trace = Json(events[0]).str("/data/trace_id");

  std::vector<Span> spans;
  ASSERT_TRUE(eventually(
      [&] {
        spans = parseSpans(receiver.spans());
        return spans.size() >= 2;
      },
      std::chrono::seconds(15)));
  const Span* server = findSpan(spans, trace, 2);
  const Span* client = findSpan(spans, trace, 3);
  ASSERT_NE(server, nullptr) << receiver.spans();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(server->parent_span_id, "");
  EXPECT_EQ(client->parent_span_id, server->span_id);
  EXPECT_EQ(client->attrs.at("gen_ai.usage.input_tokens"), "21");
  EXPECT_EQ(client->attrs.at("gen_ai.usage.output_tokens"), "7");
  EXPECT_EQ(client->attrs.at("tollgate.team"), R"("unallocated")");
  Json calls(stack.mockCalls());
  EXPECT_EQ(calls.str("/calls/0/headers/traceparent"),
            "00-" + trace + "-" + client->span_id + "-01");
}

TEST(ObservabilityTest, SampleRatioZeroRecordsNothingAndTellsTheUpstreamNotSampled) {
  OtlpReceiver receiver;
  StackOptions options;
  options.extra_yaml = telemetryYaml(receiver.endpoint(), "0");
  Stack stack(options);
  ASSERT_EQ(stack.gatewayClient().post(kChat, chatBody("gpt-4o-mini", false)).status, 200);
  // A client's sampled flag wins over the ratio (parent-based).
  ASSERT_EQ(stack.gatewayClient()
                .post(kChat, chatBody("gpt-4o-mini", false),
                      {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}})
                .status,
            200);
  std::vector<Span> spans;
  ASSERT_TRUE(eventually(
      [&] {
        spans = parseSpans(receiver.spans());
        return spans.size() >= 2;
      },
      std::chrono::seconds(15)));
  Json calls(stack.mockCalls());
  EXPECT_EQ(calls.str("/calls/0/headers/traceparent").substr(53), "00");
  EXPECT_EQ(calls.str("/calls/1/headers/traceparent").substr(53), "01");
  // Shut down (flushes the exporter): still only the sampled call's three spans (server,
  // client, its one attempt).
  stack.gatewayProcess().signal(SIGTERM);
  ASSERT_TRUE(stack.gatewayProcess().wait(std::chrono::seconds(10)).has_value());
  spans = parseSpans(receiver.spans());
  ASSERT_EQ(spans.size(), 3u);
  for (const auto& span : spans) EXPECT_EQ(span.trace_id, "0af7651916cd43dd8448eb211c80319c");
}

TEST(ObservabilityTest, ARetriedCallShowsEachAttemptAsASpanWithItsEndpointAndOutcome) {
  OtlpReceiver receiver;
  StackOptions options;
  options.workers = 1;
  const RefusingPort dead_port;
  const unsigned short dead = dead_port.port();
  // Endpoint 0 refuses connections and is never ejected: the first call tries it first.
  options.extra_upstreams_yaml =
      "  - name: pool\n    dialect: openai\n    models: [\"pool-*\"]\n"
      "    balancer: round_robin\n    endpoints:\n"
      "      - url: \"http://127.0.0.1:" +
      std::to_string(dead) +
      "\"\n      - url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    outlier_detection: {consecutive_connect_failures: 0}\n";
  options.extra_yaml = telemetryYaml(receiver.endpoint(), "1.0");
  Stack stack(options);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(stack.gatewayClient().post(kChat, chatBody("pool-a", false)).status, 200);
  }
  std::vector<Span> spans;
  ASSERT_TRUE(eventually(
      [&] {
        spans = parseSpans(receiver.spans());
        return spans.size() >= 7;  // 2 x (server, client, attempt) + a failed attempt at least
      },
      std::chrono::seconds(15)))
      << receiver.spans();
  // Each call: its attempts on the dead endpoint fail and move on, the one on the mock answers.
  size_t failed = 0;
  for (const auto& a : spans) {
    if (a.kind != 1) continue;
    const Span* client = findSpan(spans, a.trace_id, 3);
    ASSERT_NE(client, nullptr) << receiver.spans();
    EXPECT_EQ(a.parent_span_id, client->span_id);
    if (a.attrs.at("tollgate.endpoint") == "0") {
      ++failed;
      EXPECT_EQ(a.attrs.at("tollgate.attempt"), "1");
      EXPECT_EQ(a.attrs.at("server.port"), std::to_string(dead));
      EXPECT_EQ(a.attrs.at("error.type"), R"("connect_error")");
      EXPECT_EQ(a.attrs.at("tollgate.attempt.next"), R"("retry")");
      EXPECT_EQ(a.attrs.count("http.response.status_code"), 0u);
      EXPECT_EQ(a.status, 2);
    } else {
      EXPECT_EQ(a.attrs.at("server.port"), std::to_string(stack.mock().port));
      EXPECT_EQ(a.attrs.at("http.response.status_code"), "200");
      EXPECT_EQ(a.attrs.count("tollgate.attempt.next"), 0u);
      EXPECT_EQ(a.attrs.count("error.type"), 0u);
      EXPECT_EQ(a.status, 0);
      // Second when the call tried the dead endpoint first.
      const bool retried = std::any_of(spans.begin(), spans.end(), [&](const Span& other) {
        return other.kind == 1 && other.trace_id == a.trace_id && &other != &a;
      });
      EXPECT_EQ(a.attrs.at("tollgate.attempt"), retried ? "2" : "1");
    }
  }
  // Round robin starts the pool's rotation on one of the two: at least one call met the dead one.
  EXPECT_GE(failed, 1u);
  EXPECT_EQ(spans.size(), 4 + 2 + failed) << receiver.spans();
}

TEST(ObservabilityTest, AnAttemptAnswered429ShowsItsStatusAndTheRetry) {
  OtlpReceiver receiver;
  Process limited("mock_upstream", {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0",
                                    "--default-status", "429"});
  const auto at = limited.waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
  ASSERT_TRUE(at.has_value());
  const unsigned short limited_port = parseHostPort(*at).port;
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      "  - name: pool\n    dialect: openai\n    models: [\"pool-*\"]\n"
      "    balancer: round_robin\n    endpoints:\n"
      "      - url: \"http://127.0.0.1:" +
      std::to_string(limited_port) + "\"\n      - url: \"http://127.0.0.1:@MOCK_PORT@\"\n";
  options.extra_yaml = telemetryYaml(receiver.endpoint(), "1.0");
  Stack stack(options);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(stack.gatewayClient().post(kChat, chatBody("pool-a", false)).status, 200);
  }
  std::vector<Span> spans;
  ASSERT_TRUE(eventually(
      [&] {
        spans = parseSpans(receiver.spans());
        return spans.size() >= 7;  // 2 x (server, client, attempt) + a 429 attempt at least
      },
      std::chrono::seconds(15)))
      << receiver.spans();
  size_t limited_attempts = 0;
  for (const auto& a : spans) {
    if (a.kind != 1 || a.attrs.at("server.port") != std::to_string(limited_port)) continue;
    ++limited_attempts;
    EXPECT_EQ(a.attrs.at("http.response.status_code"), "429");
    EXPECT_EQ(a.attrs.at("error.type"), R"("429")");
    EXPECT_EQ(a.attrs.at("tollgate.attempt.next"), R"("retry")");
    EXPECT_EQ(a.status, 2);
    // The call's next attempt answered.
    const bool answered = std::any_of(spans.begin(), spans.end(), [&](const Span& other) {
      return other.kind == 1 && other.trace_id == a.trace_id &&
             other.attrs.at("tollgate.attempt") == "2" &&
             other.attrs.at("http.response.status_code") == "200";
    });
    EXPECT_TRUE(answered) << receiver.spans();
  }
  EXPECT_GE(limited_attempts, 1u) << receiver.spans();
}

// Runs a command through the shell; returns its exit status and what it printed.
std::pair<int, std::string> shell(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(ObservabilityTest, MetricsPassPromtoolAndARealPrometheusReadsTheCounters) {
  TempDir dir;
  StackOptions options;
  options.extra_yaml = "metrics:\n  max_label_values: 50\n";
  Stack stack(options);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(stack.gatewayClient()
                  .post(kChat, chatBody("gpt-4o-mini", i == 1),
                        {{"x-team", "fraud-platform"}, {"x-mock-prompt-tokens", "1000"}})
                  .status,
              200);
  }
  ASSERT_EQ(stack.waitForEvents(3).size(), 3u);
  const std::string metrics = stack.adminClient().get("/metrics").body;
  dir.write("metrics.txt", metrics);
  const auto [status, output] = shell("promtool check metrics < " + dir.file("metrics.txt"));
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings";

  const unsigned short port = unusedPort();
  dir.write("prometheus.yml",
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: tollgate\n    static_configs:\n"
            "      - targets: [\"127.0.0.1:" +
                std::to_string(stack.admin().port) + "\"]\n");
  Process prometheus("prometheus",
                     {"/usr/bin/env", "prometheus", "--config.file=" + dir.file("prometheus.yml"),
                      "--storage.tsdb.path=" + dir.file("tsdb"),
                      "--web.listen-address=127.0.0.1:" + std::to_string(port)});
  const std::string query =
      "/api/v1/query?query=sum(tollgate_requests_total%7Bteam%3D%22fraud-platform%22%7D)";
  std::string answer;
  const bool read_back = eventually(
      [&] {
        try {
          answer = HttpClient("127.0.0.1", port).get(query, std::chrono::seconds(2)).body;
        } catch (const std::exception& e) {
          answer = e.what();  // not listening yet
        }
        return answer.find(R"("value":[)") != std::string::npos &&
               answer.find(R"(,"3"])") != std::string::npos;
      },
      std::chrono::seconds(30));
  EXPECT_TRUE(read_back) << answer << "\n" << prometheus.stderrText();
  prometheus.signal(SIGTERM);
  prometheus.wait(std::chrono::seconds(10));
}

TEST(ObservabilityTest, AccessLogWritesOneJsonLinePerCall) {
  TempDir dir;
  StackOptions options;
  options.extra_yaml =
      "access_log:\n  enabled: true\n  format: json\n  path: \"" + dir.file("access.log") + "\"\n";
  Stack stack(options);
  auto res = stack.gatewayClient().post(kChat, chatBody("gpt-4o-mini", false),
                                        {{"x-team", "risk"}, {"x-mock-prompt-tokens", "5"}});
  ASSERT_EQ(res.status, 200);
  std::vector<std::string> lines;
  ASSERT_TRUE(eventually(
      [&] {
        lines.clear();
        std::ifstream in(dir.file("access.log"));
        for (std::string l; std::getline(in, l);) lines.push_back(l);
        return !lines.empty();
      },
      std::chrono::seconds(10)));
  ASSERT_EQ(lines.size(), 1u);
  Json line(lines[0]);
  ASSERT_TRUE(line.ok()) << lines[0];
  EXPECT_EQ(line.str("/request_id"), res.header("x-request-id"));
  EXPECT_EQ(line.str("/team"), "risk");
  EXPECT_EQ(line.num("/status"), 200);
  EXPECT_EQ(line.num("/input_tokens"), 5);
  EXPECT_EQ(line.str("/path"), "/v1/chat/completions");
}

}  // namespace
}  // namespace tollgate::testing
