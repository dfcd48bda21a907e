// Loader: the budgets:, rate_limits:, spend_state: and alerts: sections (docs/budgets.md).
#include <set>

#include "config/loader.h"

namespace tollgate::config {

std::optional<std::string> Loader::spendRuleName(const YAML::Node& entry, const std::string& path,
                                                 std::string_view what,
                                                 std::set<std::string>& names) {
  const auto n = child(entry, "name");
  if (!n) {
    error(path + ".name", "is required");
    return std::nullopt;
  }
  // Names appear in Redis keys, metrics and events: label characters only.
  auto text = labelValue(*n, path + ".name");
  if (text && !names.insert(*text).second) {
    error(path + ".name", "duplicate " + std::string(what) + " name " + quoteKey(*text));
    return std::nullopt;
  }
  return text;
}

void Loader::loadSpendScope(const YAML::Node& node, const std::string& path, SpendScope& scope) {
  if (!checkSection(node, path,
                    {"team", "project", "cost_center", "environment", "workload_type", "key_id"})) {
    return;
  }
  const std::pair<std::string_view, std::string*> fields[] = {
      {"team", &scope.team},
      {"project", &scope.project},
      {"cost_center", &scope.cost_center},
      {"environment", &scope.environment},
      {"workload_type", &scope.workload_type},
      {"key_id", &scope.key_id}};
  for (const auto& [key, target] : fields) {
    if (auto n = child(node, key)) {
      if (auto text = labelValue(*n, path + "." + std::string(key))) *target = *text;
    }
  }
}

void Loader::loadBudgets(const YAML::Node& node, std::vector<BudgetConfig>& budgets) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    error("budgets", "expected a sequence of budgets");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("budgets", i);
    const YAML::Node& entry = node[i];
    if (!entry.IsMap()) {
      error(path, "expected a mapping");
      continue;
    }
    checkSection(entry, path,
                 {"name", "scope", "period", "timezone", "limit_usd", "alert_at", "action",
                  "streams", "clamp_max_tokens"});
    BudgetConfig budget;
    if (auto name = spendRuleName(entry, path, "budget", names)) budget.name = *name;
    if (auto n = child(entry, "scope")) loadSpendScope(*n, path + ".scope", budget.scope);
    if (auto n = child(entry, "period")) {
      if (auto text = oneOf(*n, path + ".period", {"day", "week", "month"},
                            "must be one of day, week, month")) {
        budget.period = *text;
      }
    }
    if (auto n = child(entry, "timezone")) {
      if (auto text = nonEmptyString(*n, path + ".timezone")) {
        std::string why;
        if (auto zone = TimeZone::load(*text, why)) {
          budget.timezone = *text;
          budget.time_zone = std::make_shared<const TimeZone>(std::move(*zone));
        } else {
          error(path + ".timezone", why);
        }
      }
    }
    if (auto n = child(entry, "limit_usd")) {
      static constexpr std::string_view kLimit =
          "must be a positive decimal string of USD (e.g. \"5000.00\")";
      if (auto text = scalar(*n, path + ".limit_usd", kLimit)) {
        const auto money = meter::Money::parseUsd(*text);
        if (!money || money->pico() <= 0) {
          error(path + ".limit_usd", std::string(kLimit));
        } else {
          budget.limit = *money;
        }
      }
    } else {
      error(path + ".limit_usd", "is required");
    }
    if (auto n = child(entry, "alert_at")) {
      if (n->IsNull()) {
        budget.alert_at.clear();
      } else if (!n->IsSequence()) {
        error(path + ".alert_at", "expected a sequence of percentages");
      } else {
        std::vector<uint32_t> thresholds;
        for (size_t j = 0; j < n->size(); ++j) {
          const std::string item = indexPath(path + ".alert_at", j);
          if (auto v = integer((*n)[j], item, 1, 1000, "an integer percentage from 1 to 1000")) {
            if (!thresholds.empty() && *v <= thresholds.back()) {
              error(item, "thresholds must be ascending without repeats");
            } else {
              thresholds.push_back(static_cast<uint32_t>(*v));
            }
          }
        }
        budget.alert_at = std::move(thresholds);
      }
    }
    if (auto n = child(entry, "action")) {
      if (auto text = oneOf(*n, path + ".action", {"block", "alert"}, "must be block or alert")) {
        budget.action = *text;
      }
    }
    if (auto n = child(entry, "streams")) {
      if (auto text = oneOf(*n, path + ".streams", {"cut", "finish"}, "must be cut or finish")) {
        budget.streams = *text;
      }
    }
    if (auto n = child(entry, "clamp_max_tokens")) {
      if (auto v = boolean(*n, path + ".clamp_max_tokens")) budget.clamp_max_tokens = *v;
    }
    budgets.push_back(std::move(budget));
  }
}

void Loader::loadRateLimits(const YAML::Node& node, std::vector<RateLimitConfig>& limits) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    error("rate_limits", "expected a sequence of rate limits");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = indexPath("rate_limits", i);
    const YAML::Node& entry = node[i];
    if (!entry.IsMap()) {
      error(path, "expected a mapping");
      continue;
    }
    checkSection(entry, path,
                 {"name", "scope", "input_tokens_per_minute", "output_tokens_per_minute",
                  "requests_per_minute"});
    RateLimitConfig limit;
    if (auto name = spendRuleName(entry, path, "rate limit", names)) limit.name = *name;
    if (auto n = child(entry, "scope")) loadSpendScope(*n, path + ".scope", limit.scope);
    static constexpr std::string_view kPerMinute = "a positive integer (at most 1000000000)";
    const std::pair<std::string_view, uint64_t*> rates[] = {
        {"input_tokens_per_minute", &limit.input_tokens_per_minute},
        {"output_tokens_per_minute", &limit.output_tokens_per_minute},
        {"requests_per_minute", &limit.requests_per_minute}};
    bool any = false;
    for (const auto& [key, target] : rates) {
      if (auto n = child(entry, key)) {
        any = true;
        if (auto v = integer(*n, path + "." + std::string(key), 1, 1'000'000'000, kPerMinute)) {
          *target = *v;
        }
      }
    }
    if (!any) {
      error(path,
            "needs at least one of input_tokens_per_minute, output_tokens_per_minute, "
            "requests_per_minute");
    }
    limits.push_back(std::move(limit));
  }
}

void Loader::loadSpendState(const YAML::Node& node, SpendStateConfig& state) {
  if (!checkSection(node, "spend_state",
                    {"backend", "file", "redis", "default_output_tokens", "hold_ttl_ms"})) {
    return;
  }
  if (auto n = child(node, "backend")) {
    if (auto text =
            oneOf(*n, "spend_state.backend", {"local", "redis"}, "must be local or redis")) {
      state.backend = *text;
    }
  }
  if (auto n = child(node, "file")) {
    if (auto text = nonEmptyString(*n, "spend_state.file")) state.file = *text;
  }
  if (auto n = child(node, "default_output_tokens")) {
    if (auto v = integer(*n, "spend_state.default_output_tokens", 1, 10'000'000,
                         "a positive integer of tokens (at most 10000000)")) {
      state.default_output_tokens = *v;
    }
  }
  if (auto n = child(node, "hold_ttl_ms")) {
    if (auto v = integer(*n, "spend_state.hold_ttl_ms", 1000, kMaxTimeoutMs,
                         "an integer of milliseconds from 1000 to 86400000")) {
      state.hold_ttl = std::chrono::milliseconds(*v);
    }
  }
  const auto redis = child(node, "redis");
  if (redis && checkSection(*redis, "spend_state.redis",
                            {"url", "on_unavailable", "timeout_ms", "key_prefix"})) {
    RedisStateConfig& r = state.redis;
    if (auto n = child(*redis, "url")) {
      if (auto text = nonEmptyString(*n, "spend_state.redis.url")) {
        static constexpr std::string_view kUrl =
            "expected redis://host[:port][/db] (credentials in the URL are not supported)";
        const bool scheme = lowerAscii(text->substr(0, 8)) == "redis://";
        std::string rest = scheme ? text->substr(8) : std::string();
        std::string db_text;
        if (const size_t slash = rest.find('/'); slash != std::string::npos) {
          db_text = rest.substr(slash + 1);
          rest.resize(slash);
        }
        const auto parts = scheme && rest.find('@') == std::string::npos
                               ? splitHostPort(rest)
                               : std::optional<HostPort>();
        const auto db = db_text.empty() ? std::optional<uint64_t>(0) : parseUnsigned(db_text);
        if (!parts || parts->host.empty() || parts->bad_port ||
            (parts->port && *parts->port == 0) || !db || *db > 15) {
          error("spend_state.redis.url", std::string(kUrl));
        } else {
          r.url = *text;
          r.host = parts->host;
          r.port = static_cast<uint16_t>(parts->port.value_or(6379));
          r.db = static_cast<unsigned>(*db);
        }
      }
    }
    if (auto n = child(*redis, "on_unavailable")) {
      if (auto text = oneOf(*n, "spend_state.redis.on_unavailable", {"closed", "open"},
                            "must be closed or open")) {
        r.on_unavailable = *text;
      }
    }
    if (auto n = child(*redis, "timeout_ms")) {
      if (auto v = integer(*n, "spend_state.redis.timeout_ms", 1, 60'000,
                           "an integer of milliseconds from 1 to 60000")) {
        r.timeout = std::chrono::milliseconds(*v);
      }
    }
    if (auto n = child(*redis, "key_prefix")) {
      if (auto text = nonEmptyString(*n, "spend_state.redis.key_prefix")) r.key_prefix = *text;
    }
  }
}

void Loader::loadAlerts(const YAML::Node& node, AlertsConfig& alerts) {
  if (!checkSection(node, "alerts", {"webhook", "kafka_topic"})) return;
  if (auto n = child(node, "kafka_topic")) {
    if (auto text = nonEmptyString(*n, "alerts.kafka_topic")) alerts.kafka_topic = *text;
  }
  const auto hook = child(node, "webhook");
  if (!hook ||
      !checkSection(*hook, "alerts.webhook", {"url", "format", "timeout_ms", "max_attempts"})) {
    return;
  }
  AlertWebhookConfig& w = alerts.webhook;
  if (auto n = child(*hook, "url")) {
    if (auto text = nonEmptyString(*n, "alerts.webhook.url")) {
      const std::string lower = lowerAscii(text->substr(0, 8));
      if (lower.rfind("http://", 0) != 0 && lower != "https://") {
        error("alerts.webhook.url", "must start with http:// or https://");
      } else {
        w.url = *text;
      }
    }
  } else {
    error("alerts.webhook.url", "is required");
  }
  if (auto n = child(*hook, "format")) {
    if (auto text = oneOf(*n, "alerts.webhook.format", {"slack", "cloudevents"},
                          "must be slack or cloudevents")) {
      w.format = *text;
    }
  }
  if (auto n = child(*hook, "timeout_ms")) {
    if (auto v = integer(*n, "alerts.webhook.timeout_ms", 1, 60'000,
                         "an integer of milliseconds from 1 to 60000")) {
      w.timeout = std::chrono::milliseconds(*v);
    }
  }
  if (auto n = child(*hook, "max_attempts")) {
    if (auto v = integer(*n, "alerts.webhook.max_attempts", 1, 100, "an integer from 1 to 100")) {
      w.max_attempts = static_cast<uint32_t>(*v);
    }
  }
}

}  // namespace tollgate::config
