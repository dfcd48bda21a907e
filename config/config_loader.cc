#include "config/config_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>

#include "config/default_prices.h"
#include "config/loader.h"
#include "meter/glob.h"
#include "meter/price_book.h"

namespace tollgate::config {
namespace {

std::string yamlError(const YAML::Mark& mark, const std::string& what) {
  return "invalid YAML at line " + std::to_string(mark.line + 1) + ", column " +
         std::to_string(mark.column + 1) + ": " + what;
}

// Records where each document starts; the content itself is read by YAML::Load.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// yaml-cpp 0.7 neither rejects nor consumes a stray ',' where a document should start: it
// yields an empty document at the same place forever (YAML::LoadAll then exhausts memory, and
// YAML::Load silently returns null). A document starting where the previous one did is that
// loop, and is reported as the syntax error it is. Throws YAML::ParserException.
std::optional<std::string> checkSingleDocument(const std::string& source) {
  constexpr size_t kMaxDocuments = 64;
  std::istringstream stream(source);
  YAML::Parser parser(stream);
  DocumentStarts handler;
  while (handler.starts.size() < kMaxDocuments && parser.HandleNextDocument(handler)) {
    const auto& starts = handler.starts;
    if (starts.size() >= 2 && starts[starts.size() - 1].pos == starts[starts.size() - 2].pos) {
      const YAML::Mark& at = starts.back();
      const size_t pos = static_cast<size_t>(at.pos);
      const std::string found = pos < source.size() ? std::string(1, source[pos]) : "end";
      return yamlError(at, "unexpected '" + found + "'");
    }
  }
  if (handler.starts.size() > 1) return "expected a single YAML document";
  return std::nullopt;
}

}  // namespace

std::variant<Config, Errors> Loader::load(std::string_view text) {
  const std::string source(text);
  YAML::Node root;
  try {
    if (auto problem = checkSingleDocument(source)) return Errors{{"", *problem}};
    root = YAML::Load(source);
  } catch (const YAML::ParserException& e) {
    return Errors{{"", yamlError(e.mark, e.msg)}};
  }
  if (!root.IsNull() && !root.IsMap()) return Errors{{"", "expected a mapping at the top level"}};

  Config config;
  loadRoot(root, config);
  if (!errors_.empty()) return std::move(errors_);
  addPriceWarnings(config);
  return config;
}

void Loader::loadRoot(const YAML::Node& root, Config& config) {
  if (!checkSection(root, "",
                    {"server", "upstreams", "prices", "price_version", "price_defaults", "events",
                     "attribution", "keys", "logging", "telemetry", "metrics", "access_log",
                     "gpu_pools", "budgets", "rate_limits", "spend_state", "alerts"})) {
    error("upstreams", "is required");
    return;
  }
  if (auto node = child(root, "server")) loadServer(*node, config.server);
  if (auto node = child(root, "upstreams"); node && !node->IsNull()) {
    loadUpstreams(*node, config.upstreams);
  } else {
    error("upstreams", "is required");
  }
  if (auto node = child(root, "prices")) loadPrices(*node, config.prices);
  if (auto node = child(root, "price_version")) {
    if (auto text = nonEmptyString(*node, "price_version")) config.price_catalog_version = *text;
  }
  bool price_defaults = true;
  if (auto node = child(root, "price_defaults")) {
    if (auto text = oneOf(*node, "price_defaults", {"true", "false"}, "must be true or false")) {
      price_defaults = *text == "true";
    }
  }
  if (price_defaults) loadDefaultPrices(config);
  if (auto node = child(root, "events")) loadEvents(*node, config.events);
  if (auto node = child(root, "attribution")) {
    loadAttribution(*node, config.attribution_headers);
    loadAttributionPolicy(*node, config.attribution_policy);
  }
  if (auto node = child(root, "keys")) loadKeys(*node, config.keys);
  if (auto node = child(root, "logging")) loadLogging(*node, config.logging);
  if (auto node = child(root, "telemetry")) loadTelemetry(*node, config.telemetry);
  if (auto node = child(root, "metrics")) loadMetrics(*node, config.metrics);
  if (auto node = child(root, "access_log")) loadAccessLog(*node, config.access_log);
  if (auto node = child(root, "gpu_pools")) loadGpuPools(*node, config.gpu_pools);
  if (auto node = child(root, "upstreams")) checkUpstreamPools(*node, config);
  if (auto node = child(root, "budgets")) loadBudgets(*node, config.budgets);
  if (auto node = child(root, "rate_limits")) loadRateLimits(*node, config.rate_limits);
  if (auto node = child(root, "spend_state")) loadSpendState(*node, config.spend_state);
  if (auto node = child(root, "alerts")) loadAlerts(*node, config.alerts);
}

std::string endpointIdentity(const UpstreamConfig& upstream) {
  // Headers (credentials among them) enter as a hash: the identity is a map key and a log field.
  std::string headers;
  for (const auto& [name, value] : upstream.headers) {
    headers.append(name).push_back('\0');
    headers.append(value).push_back('\0');
  }
  std::ostringstream id;
  id << upstream.scheme << "://" << upstream.host << ':' << upstream.port
     << " host=" << upstream.host_header << " verify=" << upstream.tls.verify
     << " ca_file=" << upstream.tls.ca_file << " server_name=" << upstream.tls.server_name
     << " headers=" << std::hex << std::hash<std::string>{}(headers);
  return id.str();
}

EnvLookup processEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::variant<Config, std::vector<ConfigError>> parseConfig(std::string_view yaml_text,
                                                           const EnvLookup& env) {
  // yaml-cpp reports through exceptions (parse errors, bad conversions, allocation); none may
  // escape into the caller, which treats a config problem as a value.
  try {
    return Loader(env).load(yaml_text);
  } catch (const std::exception& e) {
    return Errors{{"", std::string("cannot load configuration: ") + e.what()}};
  } catch (...) {
    return Errors{{"", "cannot load configuration: unknown error"}};
  }
}

std::variant<Config, std::vector<ConfigError>> loadConfigFile(const std::string& path,
                                                              const EnvLookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Errors{{"", "cannot read config file " + quoteKey(path) + ": is a directory"}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int saved = errno;
    return Errors{{"", "cannot read config file " + quoteKey(path) + ": " +
                           (saved != 0 ? std::strerror(saved) : "open failed")}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Errors{{"", "cannot read config file " + quoteKey(path) + ": read failed"}};
  }
  return parseConfig(text.str(), env);
}

}  // namespace tollgate::config
