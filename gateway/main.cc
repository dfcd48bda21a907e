// tollgate: wiring only. Parses the command line, loads the configuration, sets up logging and
// the event sink, and runs the server.
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "gateway/events/open_call_recovery.h"
#include "gateway/events/sink_factory.h"
#include "gateway/policy/file_clock.h"
#include "gateway/policy/spend_policy.h"
#include "gateway/proxy/runtime.h"
#include "gateway/server/embedded_config.h"
#include "gateway/server/kafka_alert_channel.h"
#include "gateway/server/reload.h"
#include "gateway/server/server.h"
#include "gateway/upstream/upstream_tls_context.h"

namespace {

constexpr std::string_view kUsage =
    "usage: tollgate [--config FILE]      run the gateway (default: the embedded demo config)\n"
    "       tollgate --check-config FILE  validate FILE and exit (0 valid, 1 invalid)\n"
    "       tollgate --version\n";

using ConfigResult =
    std::variant<tollgate::config::Config, std::vector<tollgate::config::ConfigError>>;

int reportErrors(const std::string& source, const ConfigResult& result) {
  for (const auto& e : std::get<1>(result)) {
    std::fprintf(stderr, "tollgate: %s: %s\n", source.c_str(), e.toString().c_str());
  }
  return 1;
}

void setUpLogging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  for (const char* name : {"gateway", "events", "config"}) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(spdlog::level::from_str(level));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %n %v", spdlog::pattern_time_type::utc);
    spdlog::register_logger(logger);
  }
}

std::string hostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  // glibc gives a worker's arena back to the kernel whenever its top exceeds 128 KiB and takes it
  // again on the next call: strace showed 0.35 mprotect per proxied call. Keep it.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  std::string config_path;
  std::string test_clock_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--version") {
      std::printf("tollgate %s\n", TOLLGATE_VERSION);
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      return 0;
    }
    if ((arg == "--config" || arg == "--check-config") && i + 1 < argc) {
      check_only = arg == "--check-config";
      config_path = argv[++i];
      continue;
    }
    // Test-only and left out of the usage on purpose (docs/budgets.md, "A clock for tests"):
    // budgets then follow the time written in the file, not the real clock.
    if (arg == "--test-clock-file" && i + 1 < argc) {
      test_clock_path = argv[++i];
      continue;
    }
    std::fprintf(stderr, "tollgate: unknown or incomplete argument '%s'\n%s", argv[i],
                 kUsage.data());
    return 2;
  }

  const auto env = tollgate::config::processEnv();
  const std::string source = config_path.empty() ? "embedded demo config" : config_path;
  auto loaded = config_path.empty()
                    ? tollgate::config::parseConfig(tollgate::gateway::embeddedDemoConfig(), env)
                    : tollgate::config::loadConfigFile(config_path, env);
  if (loaded.index() != 0) return reportErrors(source, loaded);
  if (check_only) {
    try {
      tollgate::gateway::checkUpstreamTls(std::get<0>(loaded));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tollgate: %s: %s\n", source.c_str(), e.what());
      return 1;
    }
    std::printf("tollgate: %s: configuration is valid\n", source.c_str());
    return 0;
  }

  auto config = std::make_shared<tollgate::config::Config>(std::move(std::get<0>(loaded)));
  setUpLogging(config->logging.level);
  std::signal(SIGPIPE, SIG_IGN);
  // A SIGHUP before the server waits for signals must not kill it (it reloads from then on).
  std::signal(SIGHUP, SIG_IGN);
  if (config->server.instance_id.empty()) config->server.instance_id = hostName();
  spdlog::get("config")->info("loaded {} upstreams={} prices={}", source, config->upstreams.size(),
                              config->prices.size());
  for (const auto& warning : config->warnings) spdlog::get("config")->warn("{}", warning);
  tollgate::gateway::logAdmissionMode(*config);

  try {
    auto sink = tollgate::gateway::makeEventSink(*config);
    const std::string instance = config->server.instance_id;
    // Spend control runs after admission (chain index 1) and outlives reloads.
    tollgate::gateway::RuntimeServices services;
    tollgate::gateway::SpendClock clock = tollgate::gateway::systemSpendClock();
    if (!test_clock_path.empty()) {
      auto file_clock = std::make_shared<tollgate::gateway::FileClock>(test_clock_path);
      spdlog::get("gateway")->critical(
          "TEST CLOCK ON: budgets, rate limits and alerts follow the time written in {} (now {} "
          "ms), not the real clock. --test-clock-file is for tests only; never run a production "
          "gateway with it.",
          test_clock_path, file_clock->nowMs());
      clock = [file_clock] { return file_clock->nowMs(); };
    }
    // With the Kafka sink, budget alerts also go to alerts.kafka_topic.
    std::shared_ptr<tollgate::gateway::AlertChannel> alert_channel;
    if (config->events.sink == "kafka" && !config->budgets.empty()) {
      alert_channel = std::make_shared<tollgate::gateway::KafkaAlertChannel>(*config);
    }
    if (auto spend = tollgate::gateway::SpendPolicy::create(config, 1, std::move(clock),
                                                            std::move(alert_channel))) {
      services.policies.push_back(std::move(spend));
    }
    auto runtime =
        std::make_shared<const tollgate::gateway::Runtime>(std::move(config), std::move(services));
    tollgate::gateway::recoverOpenCallsAtStart(runtime->config->events, *sink, runtime->coster);
    tollgate::gateway::Server server(std::move(runtime), std::move(sink), instance,
                                     TOLLGATE_VERSION);
    server.setReloader(std::make_unique<tollgate::gateway::ConfigReloader>(
        [config_path, env] {
          return config_path.empty()
                     ? tollgate::config::parseConfig(tollgate::gateway::embeddedDemoConfig(), env)
                     : tollgate::config::loadConfigFile(config_path, env);
        },
        source));
    server.bind();
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tollgate: %s\n", e.what());
    return 1;
  }
}
