#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"
#include "config/config_loader.h"
#include "config/loader_support.h"

namespace tollgate::config {

// Reads one configuration document into a Config, collecting every error with its key path.
// Internal to config/: the typed readers are in loader.cc, each top-level section in its own
// <section>_section.cc (server, upstreams, prices, events, attribution, telemetry, gpu_pools,
// budgets), the document and the root in config_loader.cc. A new section is a new file and one
// line in loadRoot.
class Loader {
 public:
  explicit Loader(const EnvLookup& env) : env_(env) {}

  std::variant<Config, Errors> load(std::string_view text);

  // Only the gpu_pools: section of a document (the ledger's view of a gateway config).
  std::variant<std::vector<GpuPoolConfig>, Errors> loadGpuPoolsOnly(std::string_view text);

 private:
  // The typed readers (loader.cc).
  void error(std::string path, std::string message);

  // Calls fn(key, value, key_path) for every entry of a mapping, reporting non-string and
  // repeated keys (yaml-cpp keeps both copies of a repeated key; only the first would be used).
  template <typename Fn>
  void forEachEntry(const YAML::Node& map, const std::string& path, bool always_quote, Fn&& fn) {
    std::vector<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(path, "keys must be strings");
        continue;
      }
      const std::string key = it->first.Scalar();
      const std::string child_path = keyPath(path, key, always_quote);
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        error(child_path, "duplicate key");
        continue;
      }
      seen.push_back(key);
      fn(key, it->second, child_path);
    }
  }

  // A section holding a fixed set of keys. A null section (`server:` alone) keeps every default.
  // Returns false when there is nothing to read.
  bool checkSection(const YAML::Node& node, const std::string& path,
                    std::initializer_list<std::string_view> known);

  // A map whose keys are data: must be a mapping (or null: empty).
  bool checkDataMap(const YAML::Node& node, const std::string& path, std::string_view expected);

  static std::optional<YAML::Node> child(const YAML::Node& map, std::string_view key);

  // Replaces ${NAME} through the environment; "$${" stands for a literal "${".
  std::optional<std::string> substitute(std::string_view raw, const std::string& path);

  // The text of a scalar after substitution. yaml-cpp keeps a scalar's source text, so "0.60"
  // and 0.60 both arrive as "0.60"; typed readers below interpret it.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view expected);

  std::optional<std::string> stringValue(const YAML::Node& node, const std::string& path);

  std::optional<std::string> nonEmptyString(const YAML::Node& node, const std::string& path);

  std::optional<uint64_t> integer(const YAML::Node& node, const std::string& path, uint64_t min,
                                  uint64_t max, std::string_view expected);

  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);

  std::optional<std::string> oneOf(const YAML::Node& node, const std::string& path,
                                   std::initializer_list<std::string_view> allowed,
                                   std::string_view message);

  std::optional<std::string> headerName(const YAML::Node& node, const std::string& path);

  void loadRoot(const YAML::Node& root, Config& config);

  // The server: section (listen addresses, timeouts, limits) (server_section.cc).
  std::optional<ListenAddress> listenAddress(const YAML::Node& node, const std::string& path);

  void loadServer(const YAML::Node& node, ServerConfig& server);

  void loadTimeouts(const YAML::Node& node, Timeouts& timeouts);

  void loadLimits(const YAML::Node& node, Limits& limits);

  // The upstreams: section (base URLs, models, injected headers, TLS) (upstreams_section.cc).
  void loadUpstreams(const YAML::Node& node, std::vector<UpstreamConfig>& upstreams);

  void loadUpstream(const YAML::Node& node, const std::string& path, UpstreamConfig& upstream);

  void parseBaseUrl(const std::string& url, const std::string& path, UpstreamConfig& upstream);

  void loadModels(const YAML::Node& node, const std::string& path,
                  std::vector<std::string>& models);

  void loadUpstreamHeaders(const YAML::Node& node, const std::string& path,
                           std::vector<std::pair<std::string, std::string>>& headers);

  void loadTls(const YAML::Node& node, const std::string& path, UpstreamTls& tls);
  void loadAws(const YAML::Node& node, const std::string& path, UpstreamAws& aws);
  void loadDeployments(const YAML::Node& node, const std::string& path,
                       std::map<std::string, std::string, std::less<>>& deployments);
  void loadCredentialsFile(const YAML::Node& node, const std::string& path,
                           UpstreamConfig& upstream);

  // An upstream's pool: endpoints, balancer, health, outlier ejection, retries, fallbacks, the
  // load signal (upstream_pool_section.cc). Runs after the single-endpoint keys were read.
  void loadUpstreamPool(const YAML::Node& node, const std::string& path, UpstreamConfig& upstream);

  void loadEndpoints(const YAML::Node& node, const std::string& path, UpstreamConfig& upstream);

  void loadHealthCheck(const YAML::Node& node, const std::string& path,
                       UpstreamHealthCheck& health);

  void loadOutlierDetection(const YAML::Node& node, const std::string& path,
                            OutlierDetection& outlier);

  void loadRetryBudget(const YAML::Node& node, const std::string& path, RetryBudgetConfig& budget);

  // `default_on`: the upstream's fallback_on, for entries without their own `on`.
  void loadFallbacks(const YAML::Node& node, const std::string& path, uint8_t default_on,
                     std::vector<UpstreamFallback>& fallbacks);

  std::optional<uint8_t> failureClasses(const YAML::Node& node, const std::string& path);

  void loadLoadSignal(const YAML::Node& node, const std::string& path, LoadSignalConfig& signal);

  // section.key, when present, as an integer from min to max.
  void readCount(const YAML::Node& section, std::string_view key, const std::string& path,
                 uint64_t min, uint64_t max, uint32_t& out);

  std::optional<std::chrono::milliseconds> milliseconds(const YAML::Node& node,
                                                        const std::string& path, uint64_t min);

  // Across upstreams: every fallback names another upstream of the same dialect, and following
  // fallbacks never comes back to where it started.
  void checkFallbacks(const std::vector<UpstreamConfig>& upstreams);

  // The prices: section, the bundled catalog and the price warnings (prices_section.cc).
  std::optional<meter::PicoPerToken> price(const YAML::Node& node, const std::string& path);

  void loadPrices(const YAML::Node& node, std::vector<meter::PriceEntry>& prices,
                  const std::string& path = "prices");

  // input/output (required), cache_read, cache_write, cache_write_1h, reasoning: one price.
  std::optional<meter::Price> loadPrice(const YAML::Node& value, const std::string& path,
                                        std::initializer_list<std::string_view> extra_keys);

  // "YYYY-MM-DD" (00:00 UTC) as unix nanoseconds.
  std::optional<int64_t> date(const YAML::Node& node, const std::string& path);

  void loadPriceEntry(const std::string& pattern, const YAML::Node& value, const std::string& path,
                      std::vector<meter::PriceEntry>& prices);

  // The bundled catalog (config/prices.default.yaml), the base under the user's prices.
  void loadDefaultPrices(Config& config);

  // A model glob is taken as covered when some price glob matches its text: "gpt-4o*" matches
  // the price "gpt-4o*" (the star matches itself) but "*" is only covered by a price "*".
  static void addPriceWarnings(Config& config);

  // The events: section (file and Kafka sinks, the spool) (events_section.cc).
  void loadEvents(const YAML::Node& node, EventsConfig& events);

  void loadSpool(const YAML::Node& node, SpoolConfig& spool);
  void loadOpenCalls(const YAML::Node& node, OpenCallsConfig& open_calls);

  void loadKafka(const YAML::Node& node, KafkaSinkConfig& kafka);

  // The attribution: and keys: sections (attribution_section.cc).
  void loadAttribution(const YAML::Node& node, AttributionHeaders& attribution);

  void loadAttributionPolicy(const YAML::Node& node, AttributionPolicy& policy);

  std::optional<std::string> labelValue(const YAML::Node& node, const std::string& path);

  void loadKeys(const YAML::Node& node, std::vector<KeyConfig>& keys);

  // The logging:, telemetry:, metrics: and access_log: sections (telemetry_section.cc).
  void loadLogging(const YAML::Node& node, LoggingConfig& logging);

  void loadTelemetry(const YAML::Node& node, TelemetryConfig& telemetry);

  void loadMetrics(const YAML::Node& node, MetricsConfig& metrics);

  void loadAccessLog(const YAML::Node& node, AccessLogConfig& access_log);

  // The budgets:, rate_limits:, spend_state: and alerts: sections (budgets_section.cc).
  void loadBudgets(const YAML::Node& node, std::vector<BudgetConfig>& budgets);

  void loadRateLimits(const YAML::Node& node, std::vector<RateLimitConfig>& limits);

  // A budget's or rate limit's name: required, a label value, unique among `names`.
  std::optional<std::string> spendRuleName(const YAML::Node& entry, const std::string& path,
                                           std::string_view what, std::set<std::string>& names);

  void loadSpendScope(const YAML::Node& node, const std::string& path, SpendScope& scope);

  void loadSpendState(const YAML::Node& node, SpendStateConfig& state);

  void loadAlerts(const YAML::Node& node, AlertsConfig& alerts);

  // The gpu_pools: section, and each upstream's gpu_pool naming one (gpu_pools_section.cc).
  void loadGpuPools(const YAML::Node& node, std::vector<GpuPoolConfig>& pools);

  void checkUpstreamPools(const YAML::Node& upstreams, const Config& config);

  const EnvLookup& env_;
  Errors errors_;
};

}  // namespace tollgate::config
