// tollgate-ledger: the finance program (contract.md, "The ledger"). Wires the command line to
// the store, the file source and the pure reports; every failure is one line on stderr and a
// non-zero exit status (docs/ledger.md lists them).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gateway/net/webhook_client.h"
#include "ledger/file_ingest.h"
#include "ledger/focus_export.h"
#include "ledger/html_report.h"
#include "ledger/import_line.h"
#include "ledger/kafka_ingest.h"
#include "ledger/ledger_config.h"
#include "ledger/postgres_store.h"
#include "ledger/report.h"
#include "ledger/report_json.h"
#include "ledger/report_text.h"
#include "ledger/sqlite_store.h"
#include "meter/cost_event.h"

namespace {

using namespace tollgate::ledger;

constexpr int kExitUsage = 2;
constexpr int kExitConfig = 3;
constexpr int kExitStore = 4;
constexpr int kExitInput = 5;

constexpr const char* kUsage =
    "usage: tollgate-ledger ingest --config LEDGER.yaml\n"
    "       tollgate-ledger import --config LEDGER.yaml FILE.csv\n"
    "       tollgate-ledger report --config LEDGER.yaml --period YYYY-MM [--by team,model]\n"
    "                              [--format table|csv|json|focus|html] [--reprice CATALOG.yaml]\n"
    "                              [--out FILE]\n"
    "       tollgate-ledger alerts --config LEDGER.yaml [--period YYYY-MM]\n";

int fail(int code, const std::string& message) {
  std::cerr << "tollgate-ledger: " << message << "\n";
  return code;
}

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in) || in.eof();
}

struct Args {
  std::string command;
  std::string config;
  std::string period;
  std::string by = "team";
  std::string format = "table";
  std::string reprice;
  std::string out;
  std::vector<std::string> positional;
};

bool parseArgs(int argc, char** argv, Args& args, std::string& error) {
  if (argc < 2) {
    error = "a command is required (ingest, import or report)";
    return false;
  }
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) {
        error = arg + " needs a value";
        return false;
      }
      into = argv[++i];
      return true;
    };
    bool ok = true;
    if (arg == "--config") {
      ok = value(args.config);
    } else if (arg == "--period") {
      ok = value(args.period);
    } else if (arg == "--by") {
      ok = value(args.by);
    } else if (arg == "--format") {
      ok = value(args.format);
    } else if (arg == "--reprice") {
      ok = value(args.reprice);
    } else if (arg == "--out") {
      ok = value(args.out);
    } else if (arg.starts_with("--")) {
      error = "unknown option " + arg;
      return false;
    } else {
      args.positional.push_back(arg);
    }
    if (!ok) return false;
  }
  if (args.config.empty()) {
    error = "--config is required";
    return false;
  }
  return true;
}

std::optional<LedgerConfig> loadConfig(const std::string& path) {
  std::string text;
  if (!readFile(path, text)) {
    fail(kExitConfig, "cannot read config " + path);
    return std::nullopt;
  }
  auto result = parseLedgerConfig(text);
  if (auto* errors = std::get_if<ConfigErrors>(&result)) {
    for (const auto& e : *errors) fail(kExitConfig, path + ": " + e.toString());
    return std::nullopt;
  }
  return std::get<LedgerConfig>(std::move(result));
}

// A YAML file read by one of the core's parsers (the gateway config's budgets or
// alerts.webhook, a price catalog); nullopt once its errors are printed.
template <class T, class Parse>
std::optional<T> readYamlFile(const std::string& path, Parse parse) {
  std::string text;
  if (!readFile(path, text)) {
    fail(kExitConfig, "cannot read " + path);
    return std::nullopt;
  }
  auto parsed = parse(text);
  if (auto* errors = std::get_if<ConfigErrors>(&parsed)) {
    for (const auto& e : *errors) fail(kExitConfig, path + ": " + e.toString());
    return std::nullopt;
  }
  return std::get<T>(std::move(parsed));
}

// The period's anomalies under every rule; each rule's baseline reaches back before the period.
std::optional<std::vector<Anomaly>> findAnomalies(const LedgerConfig& config, Store& store,
                                                  const Period& period, std::string& error) {
  std::vector<Anomaly> out;
  for (const auto& rule : config.anomalies) {
    Period extended = period;
    extended.start_hour -= rule.baseline_windows * rule.window_hours + rule.window_hours;
    auto history = store.loadPeriod(extended, error);
    if (!history) return std::nullopt;
    auto found = detectAnomalies(history->rollups, period, rule);
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

int ingest(const LedgerConfig& config, Store& store) {
  std::string error;
  int64_t warned = 0;
  auto run = [&](auto&& on_batch, auto&& on_malformed) {
    if (config.kafka) return KafkaIngest(store, config).run(error, on_batch, on_malformed);
    return FileIngest(store, config).run(error, on_batch, on_malformed);
  };
  auto stats = run(
      [](const IngestStats& s) {
        std::printf("batch committed position=%lld booked=%lld duplicates=%lld\n",
                    static_cast<long long>(s.position), static_cast<long long>(s.booked),
                    static_cast<long long>(s.duplicates));
        std::fflush(stdout);
      },
      [&](int64_t offset, const std::string& message) {
        // The first few are shown; the summary counts them all.
        if (++warned <= 10) {
          std::cerr << "tollgate-ledger: skipped malformed event at "
                    << (config.kafka ? "offset " : "byte ") << offset << ": " << message << "\n";
        }
      });
  if (!stats) return fail(kExitStore, "ingest: " + error);
  std::printf(
      "ingested lines=%lld booked=%lld duplicates=%lld malformed=%lld other_types=%lld "
      "%s=%lld%s\n",
      static_cast<long long>(stats->lines), static_cast<long long>(stats->booked),
      static_cast<long long>(stats->duplicates), static_cast<long long>(stats->malformed),
      static_cast<long long>(stats->other_types), config.kafka ? "partitions_at_end" : "position",
      static_cast<long long>(stats->position),
      stats->partial_line_left ? " (a partial last line is left for the next run)" : "");
  return 0;
}

int importCsv(const Args& args, Store& store) {
  if (args.positional.size() != 1) return fail(kExitUsage, "import needs exactly one FILE.csv");
  const std::string& file = args.positional[0];
  std::string text;
  if (!readFile(file, text)) return fail(kExitInput, "cannot read " + file);
  auto parsed = parseImportCsv(text);
  if (!parsed.errors.empty()) {
    for (const auto& e : parsed.errors) fail(kExitInput, file + ": " + e.toString());
    return kExitInput;
  }
  std::string error;
  auto result = store.importLines(parsed.lines, file, error);
  if (!result) return fail(kExitStore, "import: " + error);
  std::printf("imported lines=%lld already_imported=%lld\n", static_cast<long long>(result->added),
              static_cast<long long>(result->already_imported));
  return 0;
}

int report(const Args& args, const LedgerConfig& config, Store& store) {
  if (!args.positional.empty())
    return fail(kExitUsage, "unexpected argument " + args.positional[0]);
  if (args.period.empty()) return fail(kExitUsage, "--period YYYY-MM is required");
  auto period = parsePeriod(args.period);
  if (!period) return fail(kExitUsage, "--period: expected YYYY-MM, got \"" + args.period + "\"");
  std::vector<Label> by;
  std::stringstream labels(args.by);
  for (std::string name; std::getline(labels, name, ',');) {
    auto label = labelFromName(name);
    if (!label) {
      return fail(kExitUsage, "--by: unknown label \"" + name +
                                  "\" (team, project, cost_center, workload_type, environment, "
                                  "model, upstream, provider, outcome)");
    }
    by.push_back(*label);
  }
  if (by.empty()) return fail(kExitUsage, "--by: at least one label");
  const std::string& f = args.format;
  if (f != "table" && f != "csv" && f != "json" && f != "focus" && f != "html") {
    return fail(kExitUsage,
                "--format: expected table, csv, json, focus or html, got \"" + f + "\"");
  }
  std::shared_ptr<const tollgate::meter::PriceBook> catalog;
  if (!args.reprice.empty()) {
    if (f != "table" && f != "json") {
      return fail(kExitUsage, "--reprice shows old and new side by side in table or json");
    }
    auto read = readYamlFile<std::shared_ptr<const tollgate::meter::PriceBook>>(args.reprice,
                                                                                parsePriceCatalog);
    if (!read) return kExitConfig;
    catalog = *read;
  }

  std::vector<Budget> budgets;
  if (!config.gateway_config.empty()) {
    auto read = readYamlFile<std::vector<Budget>>(config.gateway_config, parseGatewayBudgets);
    if (!read) return kExitConfig;
    budgets = std::move(*read);
  }
  // GPU pools are read from the gateway config, validated as the gateway validates them; a
  // pool's compare_with is priced from that config's catalog (its prices: and the bundled one).
  std::vector<tollgate::config::GpuPoolConfig> pools;
  std::shared_ptr<const tollgate::meter::PriceBook> gateway_prices;
  if (!config.gateway_config.empty()) {
    auto read = readYamlFile<std::vector<tollgate::config::GpuPoolConfig>>(
        config.gateway_config, [](const std::string& text) {
          auto parsed = tollgate::config::parseGpuPools(text, tollgate::config::processEnv());
          using Result = std::variant<std::vector<tollgate::config::GpuPoolConfig>, ConfigErrors>;
          if (auto* errors = std::get_if<ConfigErrors>(&parsed)) return Result(*errors);
          return Result(std::get<0>(std::move(parsed)));
        });
    if (!read) return kExitConfig;
    pools = std::move(*read);
    const bool compare = std::any_of(pools.begin(), pools.end(),
                                     [](const auto& p) { return !p.compare_with.empty(); });
    if (compare) {
      auto catalog_read = readYamlFile<std::shared_ptr<const tollgate::meter::PriceBook>>(
          config.gateway_config, [](const std::string& text) {
            // A gateway config without prices: still has the bundled catalog.
            return parsePriceCatalog(text.find("prices:") == std::string::npos ? "prices: {}\n"
                                                                               : text);
          });
      if (!catalog_read) return kExitConfig;
      gateway_prices = *catalog_read;
    }
  }
  std::string error;
  auto data = store.loadPeriod(*period, error);
  if (!data) return fail(kExitStore, "report: " + error);
  Report r = computeReport(*data, by, config.allocation, budgets);
  if (!pools.empty()) {
    r.gpu = computeGpuPools(*period, data->pool_calls, pools, gateway_prices.get());
    r.gpu_idle_pct = r.gpu.idle_pct;
    for (const auto& note : r.gpu.notes)
      std::fprintf(stderr, "tollgate-ledger: %s\n", note.c_str());
  }
  auto anomalies = findAnomalies(config, store, *period, error);
  if (!anomalies) return fail(kExitStore, "report: " + error);
  r.anomalies = std::move(*anomalies);
  std::optional<RepriceResult> repriced;
  if (catalog) repriced = reprice(*data, *catalog, by);
  const RepriceResult* side_by_side = repriced ? &*repriced : nullptr;
  std::string text;
  if (f == "json") {
    text = formatJson(r, side_by_side);
  } else if (f == "html") {
    text = formatHtml(*data, r);
  } else if (f == "focus") {
    text = formatFocus(*data, r, config.focus);
  } else if (f == "csv") {
    text = formatCsv(r);
  } else {
    text = formatTable(r, side_by_side);
  }
  if (args.out.empty()) {
    std::cout << text;
    return std::cout.flush() ? 0 : fail(kExitInput, "cannot write the report");
  }
  std::ofstream out(args.out, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return fail(kExitInput, "cannot write " + args.out);
  return 0;
}

// Sends each spend anomaly of the period (default: the current UTC month) to the gateway's
// alerts.webhook once.
int alerts(const Args& args, const LedgerConfig& config, Store& store) {
  if (!args.positional.empty())
    return fail(kExitUsage, "unexpected argument " + args.positional[0]);
  const auto now = std::chrono::system_clock::now();
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::string now_text;
  tollgate::meter::appendRfc3339(now_ns, now_text);
  auto period = parsePeriod(args.period.empty() ? now_text.substr(0, 7) : args.period);
  if (!period) return fail(kExitUsage, "--period: expected YYYY-MM, got \"" + args.period + "\"");
  if (config.anomalies.empty())
    return fail(kExitConfig, "alerts: no anomalies: rules in the config");
  if (config.gateway_config.empty()) {
    return fail(kExitConfig, "alerts: gateway_config is needed for its alerts.webhook");
  }
  auto read =
      readYamlFile<std::optional<WebhookConfig>>(config.gateway_config, parseGatewayWebhook);
  if (!read) return kExitConfig;
  const auto webhook = *read;
  if (!webhook) return fail(kExitConfig, config.gateway_config + ": no alerts.webhook");
  std::string error;
  int64_t sent = 0, already = 0, failed = 0;
  auto anomalies = findAnomalies(config, store, *period, error);
  if (!anomalies) return fail(kExitStore, "alerts: " + error);
  for (const auto& anomaly : *anomalies) {
    const std::string key = anomalyKey(anomaly);
    auto was_sent = store.alertSent(key, error);
    if (!was_sent) return fail(kExitStore, "alerts: " + error);
    if (*was_sent) {
      ++already;
      continue;
    }
    const std::string body = anomalyAlertBody(anomaly, *webhook, now_text);
    if (!tollgate::net::postWebhook(webhook->url, anomalyAlertContentType(*webhook), body,
                                    std::chrono::seconds(10), error)) {
      // Not recorded: the next run sends it again.
      fail(kExitStore, "alerts: " + key + ": " + error);
      ++failed;
      continue;
    }
    if (!store.recordAlertSent(key, error)) return fail(kExitStore, "alerts: " + error);
    ++sent;
  }
  std::printf("alerts sent=%lld already_sent=%lld failed=%lld\n", static_cast<long long>(sent),
              static_cast<long long>(already), static_cast<long long>(failed));
  return failed == 0 ? 0 : kExitStore;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::string error;
  if (argc >= 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  if (!parseArgs(argc, argv, args, error)) {
    std::cerr << kUsage;
    return fail(kExitUsage, error);
  }
  if (args.command != "ingest" && args.command != "import" && args.command != "report" &&
      args.command != "alerts") {
    std::cerr << kUsage;
    return fail(kExitUsage, "unknown command \"" + args.command + "\"");
  }
  auto config = loadConfig(args.config);
  if (!config) return kExitConfig;
  std::unique_ptr<Store> store;
  if (!config->postgres.empty()) {
    store = PostgresStore::open(config->postgres, error);
  } else {
    store = SqliteStore::open(config->sqlite_path, error);
  }
  if (!store) return fail(kExitStore, "store: " + error);
  if (args.command == "ingest") {
    if (!args.positional.empty())
      return fail(kExitUsage, "unexpected argument " + args.positional[0]);
    return ingest(*config, *store);
  }
  if (args.command == "import") return importCsv(args, *store);
  if (args.command == "alerts") return alerts(args, *config, *store);
  return report(args, *config, *store);
}
