// GPU pools through the tollgate-ledger binary: events of two replicas ingested into SQLite,
// the pools read from the gateway config, the report in every format (issue 20).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <random>

#include "ledger/amount.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/event_builder.h"
#include "tests/ledger/ledger_process.h"

namespace tollgate::ledger {
namespace {

using namespace std::chrono_literals;
using tollgate::testing::Process;
using tollgate::testing::TempDir;

constexpr int64_t kNov1Ns = testing::kNov2At10Ns - 34 * testing::kHourNs;

std::string run(TempDir& dir, const std::string& config, std::vector<std::string> args) {
  std::vector<std::string> argv = {testing::ledgerBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", dir.file(config)});
  Process p("tollgate-ledger", argv);
  std::string out;
  while (auto line = p.readLine(60s)) out += *line + "\n";
  EXPECT_EQ(p.wait(30s), 0) << args[0] << ": " << p.stderrText();
  return out;
}

TEST(GpuPoolCli, TwoReplicasEventsAreAllocatedExactlyAndTheSameWhicheverReplicaServedThem) {
  TempDir dir;
  std::mt19937_64 rng(20);
  const char* teams[] = {"fraud", "search", "support"};
  std::vector<meter::CostEvent> events;
  for (int i = 0; i < 3000; ++i) {
    testing::EventSpec spec;
    spec.id = "gpu-" + std::to_string(i);
    spec.team = teams[rng() % 3];
    spec.model = "llama-3.1-70b";
    spec.upstream = "vllm-llama";
    spec.priced = false;
    spec.gpu_pool = "h100-a";
    spec.input_tokens = 100 + static_cast<int64_t>(rng() % 4000);
    spec.output_tokens = 10 + static_cast<int64_t>(rng() % 800);
    spec.start_ns = kNov1Ns + 8 * testing::kHourNs +
                    static_cast<int64_t>(rng() % static_cast<uint64_t>(10 * testing::kHourNs));
    spec.end_ns = spec.start_ns + 300'000'000 + static_cast<int64_t>(rng() % 20'000'000'000);
    events.push_back(testing::costEvent(spec));
  }
  auto writeEvents = [&](const std::string& name, bool swap, bool shuffle) {
    std::vector<size_t> order(events.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (shuffle) std::shuffle(order.begin(), order.end(), rng);
    std::string text;
    for (const size_t i : order) {
      auto event = events[i];
      event.source = ((i % 2 == 0) != swap) ? "tollgate://gw-1" : "tollgate://gw-2";
      meter::appendCloudEventJson(event, text);
      text += '\n';
    }
    dir.write(name, text);
  };
  writeEvents("a.jsonl", false, false);
  writeEvents("b.jsonl", true, true);
  dir.write("gateway.yaml",
            "upstreams:\n  - { name: vllm-llama, dialect: openai, base_url: "
            "\"http://10.0.0.5:8000\", models: [\"llama-3.1-70b*\"], gpu_pool: h100-a }\n"
            "prices:\n  \"gpt-4o-mini*\": { input: \"0.15\", output: \"0.60\" }\n"
            "gpu_pools:\n  - { name: h100-a, gpus: 8, gpu_hour_usd: \"24.00\", share: tokens, "
            "idle: separate, weights: { prefill: 1, decode: 4 }, compare_with: gpt-4o-mini }\n");
  for (const char* store : {"a", "b"}) {
    dir.write(std::string(store) + ".yaml",
              "source: { file: \"" + dir.file(std::string(store) + ".jsonl") +
                  "\" }\nstore: { sqlite: \"" + dir.file(std::string(store) + ".db") +
                  "\" }\ngateway_config: \"" + dir.file("gateway.yaml") + "\"\n");
    run(dir, std::string(store) + ".yaml", {"ingest"});
  }
  const std::string json_a =
      run(dir, "a.yaml", {"report", "--period", "2026-11", "--format", "json"});
  const std::string json_b =
      run(dir, "b.yaml", {"report", "--period", "2026-11", "--format", "json"});
  simdjson::dom::parser parser_a, parser_b;
  simdjson::dom::element a, b;
  ASSERT_EQ(parser_a.parse(json_a).get(a), simdjson::SUCCESS) << json_a;
  ASSERT_EQ(parser_b.parse(json_b).get(b), simdjson::SUCCESS) << json_b;
  const auto pool = a["gpu_pools"]["pools"].at(0);
  const Amount cost = *Amount::parseUsd(std::string_view(pool["cost_usd"]));
  EXPECT_EQ(cost.toFixedString(2), "138240.00");
  EXPECT_EQ(int64_t(pool["calls"]), 3000);
  Amount team_shares;
  for (auto g : a["gpu_pools"]["by_team"].get_array()) {
    team_shares += *Amount::parseUsd(std::string_view(g["cost_usd"]));
  }
  EXPECT_EQ(team_shares + *Amount::parseUsd(std::string_view(pool["idle_line_usd"])), cost);
  EXPECT_EQ(std::string_view(a["review_metrics"]["gpu_idle_pct"]),
            std::string_view(a["gpu_pools"]["idle_pct"]));
  EXPECT_NE(std::string_view(pool["compare_with_per_1k_tokens_usd"]), "n/a");
  // The same calls, delivered in another order with the replicas swapped.
  EXPECT_EQ(simdjson::to_string(a["gpu_pools"]), simdjson::to_string(b["gpu_pools"]));

  const std::string table = run(dir, "a.yaml", {"report", "--period", "2026-11"});
  EXPECT_NE(table.find("pool h100-a"), std::string::npos) << table;
  run(dir, "a.yaml",
      {"report", "--period", "2026-11", "--format", "html", "--out", dir.file("r.html")});
  std::ifstream html(dir.file("r.html"));
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("id=\"gpu-pools\""), std::string::npos);
  const std::string focus =
      run(dir, "a.yaml", {"report", "--period", "2026-11", "--format", "focus"});
  EXPECT_NE(focus.find("gpu-pool-tokens"), std::string::npos);
}

TEST(GpuPoolCli, AnInvalidPoolInTheGatewayConfigIsAConfigErrorWithItsKeyPath) {
  TempDir dir;
  dir.write("events.jsonl", "");
  dir.write("gateway.yaml", "gpu_pools:\n  - { name: h100-a, gpus: 8 }\n");
  dir.write("l.yaml", "source: { file: \"" + dir.file("events.jsonl") +
                          "\" }\nstore: { sqlite: \"" + dir.file("l.db") +
                          "\" }\ngateway_config: \"" + dir.file("gateway.yaml") + "\"\n");
  Process p("tollgate-ledger", {testing::ledgerBin(), "report", "--period", "2026-11", "--config",
                                dir.file("l.yaml")});
  EXPECT_EQ(p.wait(30s), 3);
  EXPECT_NE(p.stderrText().find("gpu_pools[0].gpu_hour_usd: is required"), std::string::npos)
      << p.stderrText();
}

}  // namespace
}  // namespace tollgate::ledger
