#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "config/config_loader.h"
#include "gateway/core/prometheus_writer.h"
#include "gateway/proxy/worker_context.h"

namespace tollgate::gateway {

// Reads the configuration again (the file given at start, or the embedded demo).
using ConfigSource =
    std::function<std::variant<config::Config, std::vector<config::ConfigError>>()>;

// Logs how calls are admitted: loudly when no keys are configured (anyone may call).
void logAdmissionMode(const config::Config& config);

// SIGHUP: re-reads the configuration, builds a new Runtime (routes, prices, keys, policy) and
// swaps it in; calls in flight finish on the snapshot they started with. A configuration that
// does not load is refused: the running one stays, each problem is logged, and
// tollgate_config_reloads_total{result="error"} counts it. What only a restart can change
// (listen addresses, workers, instance id, event sink) keeps its running value, with a warning.
class ConfigReloader {
 public:
  ConfigReloader(ConfigSource source, std::string source_name);

  // Returns whether the new configuration is now in use.
  bool reload(RuntimeHolder& holder);

  uint64_t succeeded() const { return succeeded_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

  // tollgate_config_reloads_total in the Prometheus text format (read from the admin thread).
  void renderMetrics(PrometheusWriter& out) const;

 private:
  ConfigSource source_;
  std::string source_name_;
  std::atomic<uint64_t> succeeded_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace tollgate::gateway
