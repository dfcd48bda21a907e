#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/config_loader.h"
#include "ledger/amount.h"
#include "ledger/anomaly_alert.h"
#include "ledger/anomaly_detector.h"
#include "ledger/decimal.h"
#include "ledger/labels.h"

namespace tollgate::ledger {

// Splits imported lines that match `match` over the values of one label by fixed percentages
// (e.g. a blended invoice 35/55/10 by workload_type). The shares add up to exactly 100.
struct AllocationRule {
  std::string name;
  // category, description or an attribution label -> the exact value a line must have.
  std::vector<std::pair<std::string, std::string>> match;
  Label split_by = Label::kWorkloadType;
  std::vector<std::pair<std::string, Decimal>> shares;  // label value -> percent
};

struct FocusSettings {
  std::string billing_account_id = "tollgate";
  std::string billing_account_name = "Tollgate LLM gateway";
};

// source.kafka: the cost topic, read as a consumer group.
struct KafkaSourceConfig {
  std::string brokers;
  std::string topic = "llm.cost.v1";
  std::string group = "tollgate-ledger";
  std::vector<std::pair<std::string, std::string>> properties;  // passed to librdkafka as is
};

// The ledger's configuration (contract.md, "The ledger"). Immutable once loaded.
struct LedgerConfig {
  std::string source_file;                 // source.file: the gateway's JSONL file sink
  std::optional<KafkaSourceConfig> kafka;  // source.kafka, instead of source.file
  size_t batch_events = 5000;              // source.batch_events: events per store transaction
  std::string sqlite_path;                 // store.sqlite
  std::string postgres;                    // store.postgres: a libpq connection string, instead
  bool keep_raw = false;                   // store.keep_raw: keep each event's JSON beside its id
  std::string gateway_config;              // budgets are read from it; "" = no budgets
  std::vector<AllocationRule> allocation;
  std::vector<AnomalyRule> anomalies;
  FocusSettings focus;
};

// A budget of the gateway's config (contract.md round 2 `budgets:`), as far as a report needs.
struct Budget {
  std::string name;
  std::vector<std::pair<std::string, std::string>> scope;  // key -> value; empty = all spend
  std::string period = "month";                            // day | week | month
  Amount limit;
};

using ConfigErrors = std::vector<config::ConfigError>;

// Validates the ledger YAML; every problem names its key path ("allocation[0].shares").
std::variant<LedgerConfig, ConfigErrors> parseLedgerConfig(std::string_view yaml_text);

// Reads only `alerts.webhook` of a gateway config (absent: nullopt), where budget alerts and
// the ledger's anomaly alerts go.
std::variant<std::optional<WebhookConfig>, ConfigErrors> parseGatewayWebhook(
    std::string_view yaml_text);

// Reads only the `budgets:` section of a gateway config (absent: no budgets); the rest of the
// file is the gateway's business.
std::variant<std::vector<Budget>, ConfigErrors> parseGatewayBudgets(std::string_view yaml_text);

}  // namespace tollgate::ledger
