// A simulated stretch of self-hosted inference (issue 20): two gateway replicas, each in front
// of a mock upstream that answers with latency, both upstreams on one GPU pool; the ledger
// books both replicas' events and shares the pool exactly, whichever replica served a call.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/process.h"
#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;

StackOptions poolStack() {
  StackOptions options;
  options.extra_upstreams_yaml =
      "  - { name: vllm-llama, dialect: openai, base_url: \"http://127.0.0.1:@MOCK_PORT@\", "
      "models: [\"llama-*\"], gpu_pool: h100-a }\n";
  options.extra_yaml =
      "gpu_pools:\n  - { name: h100-a, gpus: 8, gpu_hour_usd: \"24.00\", share: tokens, "
      "idle: separate, weights: { prefill: 1, decode: 4 } }\n";
  return options;
}

// `calls` chats on the pool from 4 connections at once, each with its own latency and size.
void drive(const Stack& stack, int calls, uint64_t seed) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + static_cast<uint64_t>(t));
      HttpClient client = stack.gatewayClient();
      const char* teams[] = {"fraud", "search", "support"};
      while (next.fetch_add(1) < calls) {
        const auto response =
            client.post("/v1/chat/completions",
                        R"({"model":"llama-3.1-70b","messages":[{"role":"user","content":"hi"}]})",
                        {{"content-type", "application/json"},
                         {"x-team", teams[rng() % 3]},
                         {"x-mock-ttft-ms", std::to_string(5 + rng() % 40)},
                         {"x-mock-prompt-tokens", std::to_string(50 + rng() % 2000)},
                         {"x-mock-completion-tokens", std::to_string(5 + rng() % 300)}});
        EXPECT_EQ(response.status, 200) << response.body;
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

std::string ledger(const Stack& config_from, const std::string& dir_file_prefix, TempDir& dir,
                   const std::string& events, const std::string& period) {
  dir.write(dir_file_prefix + ".jsonl", events);
  dir.write(dir_file_prefix + ".yaml",
            "source: { file: \"" + dir.file(dir_file_prefix + ".jsonl") +
                "\" }\nstore: { sqlite: \"" + dir.file(dir_file_prefix + ".db") +
                "\" }\ngateway_config: \"" + config_from.configPath() + "\"\n");
  const std::string bin = binDir() + "/tollgate-ledger";
  {
    Process ingest("tollgate-ledger",
                   {bin, "ingest", "--config", dir.file(dir_file_prefix + ".yaml")});
    EXPECT_EQ(ingest.wait(60s), 0) << ingest.stderrText();
  }
  Process report("tollgate-ledger", {bin, "report", "--config", dir.file(dir_file_prefix + ".yaml"),
                                     "--period", period, "--format", "json"});
  std::string json;
  while (auto line = report.readLine(60s)) json += *line;
  EXPECT_EQ(report.wait(30s), 0) << report.stderrText();
  return json;
}

TEST(GpuPool, TwoGatewayReplicasOnOnePoolAreSharedExactlyWhicheverServedEachCall) {
  constexpr int kCallsPerReplica = 400;
  Stack a(poolStack());
  Stack b(poolStack());
  std::thread other([&] { drive(b, kCallsPerReplica, 200); });
  drive(a, kCallsPerReplica, 100);
  other.join();
  const auto events_a = a.waitForEvents(kCallsPerReplica);
  const auto events_b = b.waitForEvents(kCallsPerReplica);
  ASSERT_EQ(events_a.size(), static_cast<size_t>(kCallsPerReplica));
  ASSERT_EQ(events_b.size(), static_cast<size_t>(kCallsPerReplica));
  for (const auto* events : {&events_a, &events_b}) {
    for (const auto& line : *events) {
      Json event(line);
      ASSERT_TRUE(event.ok()) << line;
      EXPECT_EQ(event.str("/data/gpu_pool/name"), "h100-a");
      EXPECT_TRUE(event.boolean("/data/gpu_pool/estimate"));
      EXPECT_NE(event.str("/data/gpu_pool/estimated_cost"), "0") << line;
    }
  }
  const std::string period = Json(events_a.front()).str("/time").substr(0, 7);
  std::string in_order, swapped;
  for (const auto& line : events_a) in_order += line + "\n";
  for (const auto& line : events_b) in_order += line + "\n";
  for (size_t i = events_b.size(); i-- > 0;) swapped += events_b[i] + "\n";
  for (size_t i = events_a.size(); i-- > 0;) swapped += events_a[i] + "\n";

  TempDir dir;
  const std::string json_1 = ledger(a, "first", dir, in_order, period);
  const std::string json_2 = ledger(b, "second", dir, swapped, period);
  Json r1(json_1), r2(json_2);
  ASSERT_TRUE(r1.ok()) << json_1;
  ASSERT_TRUE(r2.ok()) << json_2;
  simdjson::dom::element pool = r1.root()["gpu_pools"]["pools"].at(0);
  EXPECT_EQ(int64_t(pool["calls"]), 2 * kCallsPerReplica);
  // Sums in picodollars: every figure is an exact decimal with at most 12 fraction digits.
  auto pico = [](std::string_view usd) {
    const size_t dot = usd.find('.');
    std::string digits(usd.substr(0, dot));
    std::string fraction = dot == std::string_view::npos ? "" : std::string(usd.substr(dot + 1));
    fraction.resize(12, '0');
    return static_cast<__int128>(std::stoll(digits)) * 1'000'000'000'000 + std::stoll(fraction);
  };
  __int128 shares = 0;
  for (auto team : r1.root()["gpu_pools"]["by_team"].get_array()) {
    shares += pico(std::string_view(team["cost_usd"]));
  }
  EXPECT_TRUE(shares + pico(std::string_view(pool["idle_line_usd"])) ==
              pico(std::string_view(pool["cost_usd"])));
  EXPECT_EQ(simdjson::to_string(r1.root()["gpu_pools"]),
            simdjson::to_string(r2.root()["gpu_pools"]));
}

}  // namespace
}  // namespace tollgate::testing
