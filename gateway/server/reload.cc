#include "gateway/server/reload.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <memory>

#include "gateway/policy/spend_policy.h"

namespace tollgate::gateway {
namespace {

bool sameAddress(const config::ListenAddress& a, const config::ListenAddress& b) {
  return a.host == b.host && a.port == b.port;
}

bool sameEvents(const config::EventsConfig& a, const config::EventsConfig& b) {
  return a.sink == b.sink && a.file.path == b.file.path &&
         a.file.queue_capacity == b.file.queue_capacity && a.kafka.brokers == b.kafka.brokers &&
         a.kafka.topic == b.kafka.topic && a.kafka.properties == b.kafka.properties;
}

// Keeps the running value of what was bound or started once, warning when the file changed it.
void keepRestartOnly(const config::Config& running, config::Config& next) {
  auto log = spdlog::get("config");
  auto keep = [&](bool same, std::string_view path) {
    if (!same) log->warn("reload: {} changed: it takes effect at the next restart", path);
  };
  keep(sameAddress(running.server.listen, next.server.listen), "server.listen");
  next.server.listen = running.server.listen;
  keep(sameAddress(running.server.admin_listen, next.server.admin_listen), "server.admin_listen");
  next.server.admin_listen = running.server.admin_listen;
  keep(running.server.workers == next.server.workers, "server.workers");
  next.server.workers = running.server.workers;
  // At start an empty instance_id became the host name: an unchanged file still says empty.
  keep(next.server.instance_id.empty() || next.server.instance_id == running.server.instance_id,
       "server.instance_id");
  next.server.instance_id = running.server.instance_id;
  keep(sameEvents(running.events, next.events), "events");
  next.events = running.events;
}

}  // namespace

void logAdmissionMode(const config::Config& config) {
  auto log = spdlog::get("config");
  const auto& policy = config.attribution_policy;
  std::string required;
  for (const auto& label : policy.required) required += (required.empty() ? "" : ",") + label;
  if (config.keys.empty()) {
    log->warn(
        "no keys configured: the gateway is OPEN, any client can call through it "
        "unauthenticated (add a keys: section to require gateway keys)");
  }
  log->info("admission keys={} mode={} required={}", config.keys.size(),
            policy.enforce ? "enforce" : "warn", required.empty() ? "none" : required);
}

ConfigReloader::ConfigReloader(ConfigSource source, std::string source_name)
    : source_(std::move(source)), source_name_(std::move(source_name)) {}

bool ConfigReloader::reload(RuntimeHolder& holder) {
  auto log = spdlog::get("config");
  log->info("reload: reading {}", source_name_);
  auto loaded = source_();
  if (auto* errors = std::get_if<std::vector<config::ConfigError>>(&loaded)) {
    for (const auto& e : *errors) log->error("reload: {}: {}", source_name_, e.toString());
    log->error("reload refused: {} problem(s) in {}; the running configuration stays",
               errors->size(), source_name_);
    // Counted after it is logged: whoever sees the count can read why.
    failed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const auto running = holder.load();
  auto next = std::make_shared<config::Config>(std::move(std::get<config::Config>(loaded)));
  keepRestartOnly(*running->config, *next);
  std::shared_ptr<const Runtime> runtime;
  try {
    runtime = std::make_shared<const Runtime>(std::move(next), running->services);
  } catch (const std::exception& e) {
    log->error("reload refused: {}; the running configuration stays", e.what());
    failed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // Spend control keeps its spend and holds; it takes the new rules and prices.
  for (const auto& policy : runtime->services.policies) {
    if (auto spend = std::dynamic_pointer_cast<SpendPolicy>(policy)) spend->reload(runtime->config);
  }
  const auto& cfg = *runtime->config;
  for (const auto& warning : cfg.warnings) log->warn("{}", warning);
  if (cfg.logging.level != running->config->logging.level) {
    spdlog::set_level(spdlog::level::from_str(cfg.logging.level));
  }
  logAdmissionMode(cfg);
  log->info(
      "reload: configuration from {} in use upstreams={} prices={} price_version={} "
      "keys={}",
      source_name_, cfg.upstreams.size(), cfg.prices.size(), cfg.price_catalog_version,
      cfg.keys.size());
  holder.store(std::move(runtime));
  succeeded_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ConfigReloader::renderMetrics(PrometheusWriter& out) const {
  out.family("tollgate_config_reloads_total", "counter",
             "Configuration reloads (SIGHUP), by result.");
  out.sample("tollgate_config_reloads_total", {{"result", "ok"}}, succeeded());
  out.sample("tollgate_config_reloads_total", {{"result", "error"}}, failed());
}

}  // namespace tollgate::gateway
