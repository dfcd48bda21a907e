#include "ledger/ledger_config.h"

#include <set>

#include "ledger/yaml_text.h"

namespace tollgate::ledger {
namespace {

class Reader {
 public:
  ConfigErrors errors;

  void error(const std::string& path, std::string message) {
    errors.push_back({path, std::move(message)});
  }

  bool checkKeys(const YAML::Node& node, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) {
      error(path, "expected a mapping");
      return false;
    }
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      bool ok = false;
      for (const auto a : allowed) ok = ok || a == key;
      if (!ok) error(join(path, key), "unknown key");
    }
    return true;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      error(path, "expected a string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::string> nonEmpty(const YAML::Node& node, const std::string& path) {
    auto text = scalar(node, path);
    if (text && text->empty()) {
      error(path, "must not be empty");
      return std::nullopt;
    }
    return text;
  }
};

void readAllocation(Reader& in, const YAML::Node& node, LedgerConfig& config) {
  if (!node.IsSequence()) {
    in.error("allocation", "expected a list of rules");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "allocation[" + std::to_string(i) + "]";
    const YAML::Node r = node[i];
    if (!in.checkKeys(r, path, {"name", "match", "split_by", "shares"})) continue;
    AllocationRule rule;
    if (r["name"]) {
      if (auto n = in.nonEmpty(r["name"], path + ".name")) rule.name = *n;
    } else {
      rule.name = path;
    }
    if (!names.insert(rule.name).second) in.error(path + ".name", "used twice");
    if (!r["match"]) {
      in.error(path + ".match", "is required (a rule that matches everything spreads all spend)");
    } else if (in.checkKeys(r["match"], path + ".match",
                            {"category", "description", "team", "project", "cost_center",
                             "workload_type", "environment"})) {
      for (const auto& kv : r["match"]) {
        const auto key = kv.first.as<std::string>();
        if (auto v = in.scalar(kv.second, path + ".match." + key)) rule.match.emplace_back(key, *v);
      }
    }
    if (!r["split_by"]) {
      in.error(path + ".split_by", "is required");
    } else if (auto by = in.scalar(r["split_by"], path + ".split_by")) {
      auto label = labelFromName(*by);
      if (!label || static_cast<size_t>(*label) >= kAttributionLabelCount) {
        in.error(path + ".split_by",
                 "must be team, project, cost_center, workload_type or environment");
      } else {
        rule.split_by = *label;
      }
    }
    if (!r["shares"] || !r["shares"].IsMap() || r["shares"].size() == 0) {
      in.error(path + ".shares", "is required: a mapping of label value to percent");
    } else {
      Decimal sum;
      bool ok = true;
      for (const auto& kv : r["shares"]) {
        const auto key = kv.first.as<std::string>();
        const std::string share_path = path + ".shares." + key;
        auto text = in.scalar(kv.second, share_path);
        auto share = text ? Decimal::parse(*text) : std::nullopt;
        if (!share || share->isNegative() || share->isZero()) {
          if (text) in.error(share_path, "expected a positive decimal percent");
          ok = false;
          continue;
        }
        sum = sum + *share;
        rule.shares.emplace_back(key, *share);
      }
      if (ok && !(sum == Decimal::fromInteger(100))) {
        in.error(path + ".shares", "must add up to exactly 100, not " + sum.toString());
      }
    }
    config.allocation.push_back(std::move(rule));
  }
}

// A whole number from `min` to `max` given as a YAML scalar.
std::optional<int64_t> readCount(Reader& in, const YAML::Node& node, const std::string& path,
                                 int64_t min, int64_t max) {
  auto text = in.scalar(node, path);
  auto n = text ? Decimal::parse(*text) : std::nullopt;
  if (!n || n->scale() != 0 || n->units() < min || n->units() > max) {
    if (text) {
      in.error(path, "expected a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max));
    }
    return std::nullopt;
  }
  return static_cast<int64_t>(n->units());
}

void readAnomalies(Reader& in, const YAML::Node& node, LedgerConfig& config) {
  if (!node.IsSequence()) {
    in.error("anomalies", "expected a list of rules");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = "anomalies[" + std::to_string(i) + "]";
    const YAML::Node r = node[i];
    if (!in.checkKeys(r, path,
                      {"name", "by", "window", "baseline", "min_samples", "min_usd", "factor"})) {
      continue;
    }
    AnomalyRule rule;
    rule.name = path;
    if (r["name"]) {
      if (auto n = in.nonEmpty(r["name"], path + ".name")) rule.name = *n;
    }
    if (!r["by"] || !r["by"].IsSequence() || r["by"].size() == 0) {
      in.error(path + ".by", "is required: a list of labels, e.g. [team]");
    } else {
      for (size_t k = 0; k < r["by"].size(); ++k) {
        const std::string by_path = path + ".by[" + std::to_string(k) + "]";
        auto name = in.scalar(r["by"][k], by_path);
        auto label = name ? labelFromName(*name) : std::nullopt;
        if (!label) {
          if (name) in.error(by_path, "not a label (team, project, cost_center, ...)");
          continue;
        }
        rule.by.push_back(*label);
      }
    }
    if (r["window"]) {
      auto w = in.scalar(r["window"], path + ".window");
      if (w && *w != "hour" && *w != "day") in.error(path + ".window", "must be hour or day");
      if (w && *w == "day") rule.window_hours = 24;
    }
    if (r["baseline"]) {
      if (auto n = readCount(in, r["baseline"], path + ".baseline", 1, 10'000)) {
        rule.baseline_windows = *n;
      }
    }
    if (r["min_samples"]) {
      if (auto n = readCount(in, r["min_samples"], path + ".min_samples", 1, 10'000)) {
        rule.min_samples = *n;
      }
    }
    if (rule.min_samples > rule.baseline_windows) {
      in.error(path + ".min_samples", "cannot exceed baseline");
    }
    if (r["min_usd"]) {
      auto text = in.scalar(r["min_usd"], path + ".min_usd");
      auto amount = text ? Amount::parseUsd(*text) : std::nullopt;
      if (!amount || amount->pico() < 0) {
        if (text) in.error(path + ".min_usd", "expected a non-negative exact decimal string");
      } else {
        rule.min_amount = *amount;
      }
    }
    if (r["factor"]) {
      auto text = in.scalar(r["factor"], path + ".factor");
      auto factor = text ? Decimal::parse(*text) : std::nullopt;
      if (!factor || factor->compare(Decimal::fromInteger(1)) < 0) {
        if (text) in.error(path + ".factor", "expected a decimal of at least 1");
      } else {
        rule.factor = *factor;
      }
    }
    config.anomalies.push_back(std::move(rule));
  }
}

void readKafka(Reader& in, const YAML::Node& node, LedgerConfig& config) {
  if (!in.checkKeys(node, "source.kafka", {"brokers", "topic", "group", "properties"})) return;
  KafkaSourceConfig kafka;
  if (!node["brokers"]) {
    in.error("source.kafka.brokers", "is required");
  } else if (auto v = in.nonEmpty(node["brokers"], "source.kafka.brokers")) {
    kafka.brokers = *v;
  }
  if (node["topic"]) {
    if (auto v = in.nonEmpty(node["topic"], "source.kafka.topic")) kafka.topic = *v;
  }
  if (node["group"]) {
    if (auto v = in.nonEmpty(node["group"], "source.kafka.group")) kafka.group = *v;
  }
  if (node["properties"]) {
    if (!node["properties"].IsMap()) {
      in.error("source.kafka.properties", "expected a mapping of librdkafka properties");
    } else {
      for (const auto& kv : node["properties"]) {
        const auto key = kv.first.as<std::string>();
        if (auto v = in.scalar(kv.second, "source.kafka.properties." + key)) {
          kafka.properties.emplace_back(key, *v);
        }
      }
    }
  }
  config.kafka = std::move(kafka);
}

}  // namespace

std::variant<LedgerConfig, ConfigErrors> parseLedgerConfig(std::string_view yaml_text) {
  Reader in;
  LedgerConfig config;
  ConfigErrors yaml_errors;
  auto loaded = loadYamlText(yaml_text, yaml_errors);
  if (!loaded) return yaml_errors;
  const YAML::Node root = *loaded;
  if (!in.checkKeys(root, "",
                    {"source", "store", "gateway_config", "allocation", "anomalies", "focus"})) {
    return in.errors;
  }
  if (!root["source"]) {
    in.error("source", "is required");
  } else if (in.checkKeys(root["source"], "source", {"file", "kafka", "batch_events"})) {
    const YAML::Node s = root["source"];
    if (s["kafka"] && s["file"]) {
      in.error("source", "give file or kafka, not both");
    } else if (s["kafka"]) {
      readKafka(in, s["kafka"], config);
    } else if (!s["file"]) {
      in.error("source.file", "is required (or source.kafka)");
    } else if (auto f = in.nonEmpty(s["file"], "source.file")) {
      config.source_file = *f;
    }
    if (s["batch_events"]) {
      auto text = in.scalar(s["batch_events"], "source.batch_events");
      auto n = text ? Decimal::parse(*text) : std::nullopt;
      if (!n || n->scale() != 0 || n->units() < 1 || n->units() > 1'000'000) {
        if (text) in.error("source.batch_events", "expected an integer from 1 to 1000000");
      } else {
        config.batch_events = static_cast<size_t>(n->units());
      }
    }
  }
  if (!root["store"]) {
    in.error("store", "is required");
  } else if (in.checkKeys(root["store"], "store", {"sqlite", "postgres", "keep_raw"})) {
    const YAML::Node s = root["store"];
    if (s["postgres"] && s["sqlite"]) {
      in.error("store", "give sqlite or postgres, not both");
    } else if (s["postgres"]) {
      if (auto c = in.nonEmpty(s["postgres"], "store.postgres")) config.postgres = *c;
    } else if (!s["sqlite"]) {
      in.error("store.sqlite", "is required (or store.postgres)");
    } else if (auto f = in.nonEmpty(s["sqlite"], "store.sqlite")) {
      config.sqlite_path = *f;
    }
    if (s["keep_raw"]) {
      auto text = in.scalar(s["keep_raw"], "store.keep_raw");
      if (text && *text != "true" && *text != "false") {
        in.error("store.keep_raw", "must be true or false");
      }
      config.keep_raw = text && *text == "true";
    }
  }
  if (root["gateway_config"]) {
    if (auto f = in.scalar(root["gateway_config"], "gateway_config")) config.gateway_config = *f;
  }
  if (root["allocation"]) readAllocation(in, root["allocation"], config);
  if (root["anomalies"]) readAnomalies(in, root["anomalies"], config);
  if (root["focus"] &&
      in.checkKeys(root["focus"], "focus", {"billing_account_id", "billing_account_name"})) {
    if (root["focus"]["billing_account_id"]) {
      if (auto v = in.nonEmpty(root["focus"]["billing_account_id"], "focus.billing_account_id")) {
        config.focus.billing_account_id = *v;
      }
    }
    if (root["focus"]["billing_account_name"]) {
      if (auto v =
              in.nonEmpty(root["focus"]["billing_account_name"], "focus.billing_account_name")) {
        config.focus.billing_account_name = *v;
      }
    }
  }
  if (!in.errors.empty()) return in.errors;
  return config;
}

std::variant<std::vector<Budget>, ConfigErrors> parseGatewayBudgets(std::string_view yaml_text) {
  Reader in;
  std::vector<Budget> budgets;
  ConfigErrors yaml_errors;
  auto loaded = loadYamlText(yaml_text, yaml_errors);
  if (!loaded) return yaml_errors;
  const YAML::Node root = *loaded;
  if (!root.IsMap() || !root["budgets"] || root["budgets"].IsNull()) return budgets;
  const YAML::Node list = root["budgets"];
  if (!list.IsSequence()) return ConfigErrors{{"budgets", "expected a list"}};
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = "budgets[" + std::to_string(i) + "]";
    const YAML::Node b = list[i];
    // The gateway validates the rest of a budget; these are the keys a report reads.
    if (!b.IsMap()) {
      in.error(path, "expected a mapping");
      continue;
    }
    Budget budget;
    if (auto n = b["name"] ? in.nonEmpty(b["name"], path + ".name") : std::nullopt) {
      budget.name = *n;
    } else if (!b["name"]) {
      in.error(path + ".name", "is required");
    }
    if (b["scope"] && in.checkKeys(b["scope"], path + ".scope",
                                   {"team", "project", "cost_center", "environment",
                                    "workload_type", "key_id"})) {
      for (const auto& kv : b["scope"]) {
        const auto key = kv.first.as<std::string>();
        if (auto v = in.scalar(kv.second, path + ".scope." + key))
          budget.scope.emplace_back(key, *v);
      }
    }
    if (b["period"]) {
      auto p = in.scalar(b["period"], path + ".period");
      if (p && *p != "day" && *p != "week" && *p != "month") {
        in.error(path + ".period", "must be day, week or month");
      } else if (p) {
        budget.period = *p;
      }
    }
    auto limit_text =
        b["limit_usd"] ? in.scalar(b["limit_usd"], path + ".limit_usd") : std::nullopt;
    auto limit = limit_text ? Amount::parseUsd(*limit_text) : std::nullopt;
    if (!limit) {
      in.error(path + ".limit_usd", "expected an exact decimal string");
    } else {
      budget.limit = *limit;
    }
    budgets.push_back(std::move(budget));
  }
  if (!in.errors.empty()) return in.errors;
  return budgets;
}

}  // namespace tollgate::ledger

namespace tollgate::ledger {

std::variant<std::optional<WebhookConfig>, ConfigErrors> parseGatewayWebhook(
    std::string_view yaml_text) {
  ConfigErrors yaml_errors;
  auto loaded = loadYamlText(yaml_text, yaml_errors);
  if (!loaded) return yaml_errors;
  const YAML::Node root = *loaded;
  if (!root.IsMap() || !root["alerts"] || !root["alerts"]["webhook"]) {
    return std::optional<WebhookConfig>();
  }
  Reader in;
  const YAML::Node w = root["alerts"]["webhook"];
  WebhookConfig webhook;
  if (!w.IsMap() || !w["url"]) {
    in.error("alerts.webhook.url", "is required");
  } else if (auto url = in.nonEmpty(w["url"], "alerts.webhook.url")) {
    webhook.url = *url;
  }
  if (w.IsMap() && w["format"]) {
    auto f = in.scalar(w["format"], "alerts.webhook.format");
    if (f && *f != "slack" && *f != "cloudevents") {
      in.error("alerts.webhook.format", "must be slack or cloudevents");
    } else if (f) {
      webhook.format = *f;
    }
  }
  if (!in.errors.empty()) return in.errors;
  return std::optional<WebhookConfig>(webhook);
}

}  // namespace tollgate::ledger
