#include "ledger/ledger_config.h"

#include <gtest/gtest.h>

namespace tollgate::ledger {
namespace {

std::vector<std::string> errorPaths(std::string_view yaml) {
  auto result = parseLedgerConfig(yaml);
  std::vector<std::string> out;
  if (auto* errors = std::get_if<ConfigErrors>(&result)) {
    for (const auto& e : *errors) out.push_back(e.path);
  }
  return out;
}

TEST(LedgerConfig, ContractExampleLoads) {
  auto result = parseLedgerConfig(R"(
source: { file: "var/cost-events.jsonl" }
store: { sqlite: "var/ledger.db" }
gateway_config: "config/demo.yaml"
allocation:
  - name: blended-invoice
    match: { category: invoice }
    split_by: workload_type
    shares: { training: "35", inference: "55", notebook: "10" }
)");
  ASSERT_TRUE(std::holds_alternative<LedgerConfig>(result));
  const auto& config = std::get<LedgerConfig>(result);
  EXPECT_EQ(config.source_file, "var/cost-events.jsonl");
  EXPECT_EQ(config.sqlite_path, "var/ledger.db");
  EXPECT_EQ(config.gateway_config, "config/demo.yaml");
  ASSERT_EQ(config.allocation.size(), 1u);
  EXPECT_EQ(config.allocation[0].shares.size(), 3u);
}

TEST(LedgerConfig, SharesNotAddingUpTo100NameTheRule) {
  EXPECT_EQ(errorPaths(R"(
source: { file: f }
store: { sqlite: s }
allocation:
  - { match: { category: invoice }, split_by: workload_type, shares: { a: "35", b: "55" } }
)"),
            std::vector<std::string>{"allocation[0].shares"});
}

TEST(LedgerConfig, UnknownAndMissingKeysNameTheirPath) {
  EXPECT_EQ(errorPaths("source: { file: f, fil: g }\nstore: {}\n"),
            (std::vector<std::string>{"source.fil", "store.sqlite"}));
  EXPECT_EQ(errorPaths("store: { sqlite: s }\n"), std::vector<std::string>{"source"});
  EXPECT_EQ(errorPaths(R"(
source: { file: f }
store: { sqlite: s }
allocation:
  - { split_by: model, shares: { a: "100" } }
)"),
            (std::vector<std::string>{"allocation[0].match", "allocation[0].split_by"}));
}

TEST(LedgerConfig, KafkaSourceReplacesTheFile) {
  auto result = parseLedgerConfig(
      "source: { kafka: { brokers: \"127.0.0.1:9092\", properties: { fetch.max.bytes: \"1000\" } } "
      "}\n"
      "store: { sqlite: s }\n");
  ASSERT_TRUE(std::holds_alternative<LedgerConfig>(result));
  const auto& kafka = std::get<LedgerConfig>(result).kafka;
  ASSERT_TRUE(kafka);
  EXPECT_EQ(kafka->topic, "llm.cost.v1");
  EXPECT_EQ(kafka->group, "tollgate-ledger");
  EXPECT_EQ(kafka->properties.size(), 1u);
  EXPECT_EQ(errorPaths("source: { kafka: { brokers: b }, file: f }\nstore: { sqlite: s }\n"),
            std::vector<std::string>{"source"});
  EXPECT_EQ(errorPaths("source: { kafka: { topic: t } }\nstore: { sqlite: s }\n"),
            std::vector<std::string>{"source.kafka.brokers"});
}

TEST(LedgerConfig, StoreIsSqliteOrPostgresNotBoth) {
  auto result = parseLedgerConfig("source: { file: f }\nstore: { postgres: \"host=127.0.0.1\" }\n");
  ASSERT_TRUE(std::holds_alternative<LedgerConfig>(result));
  EXPECT_EQ(std::get<LedgerConfig>(result).postgres, "host=127.0.0.1");
  EXPECT_EQ(errorPaths("source: { file: f }\nstore: { postgres: p, sqlite: s }\n"),
            std::vector<std::string>{"store"});
}

TEST(GatewayBudgets, ReadsTheRoundTwoKeysAndIgnoresTheRest) {
  auto result = parseGatewayBudgets(R"(
server: { listen: "127.0.0.1:8080" }
budgets:
  - name: fraud-monthly
    scope: { team: fraud-platform }
    period: month
    limit_usd: "5000.00"
    alert_at: [50, 80, 100]
    action: block
)");
  ASSERT_TRUE(std::holds_alternative<std::vector<Budget>>(result));
  const auto& budgets = std::get<std::vector<Budget>>(result);
  ASSERT_EQ(budgets.size(), 1u);
  EXPECT_EQ(budgets[0].name, "fraud-monthly");
  EXPECT_EQ(budgets[0].limit.toFixedString(2), "5000.00");
  EXPECT_EQ(budgets[0].scope[0].second, "fraud-platform");
}

TEST(GatewayBudgets, AbsentSectionMeansNoBudgets) {
  auto result = parseGatewayBudgets("server: {}\n");
  ASSERT_TRUE(std::holds_alternative<std::vector<Budget>>(result));
  EXPECT_TRUE(std::get<std::vector<Budget>>(result).empty());
}

TEST(GatewayBudgets, FloatLimitNamesItsPath) {
  auto result = parseGatewayBudgets("budgets:\n  - { name: b, limit_usd: \"5e3\" }\n");
  ASSERT_TRUE(std::holds_alternative<ConfigErrors>(result));
  EXPECT_EQ(std::get<ConfigErrors>(result)[0].path, "budgets[0].limit_usd");
}

}  // namespace
}  // namespace tollgate::ledger
