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
#include "meter/glob.h"
#include "meter/price_book.h"

namespace tollgate::config {
namespace {

using Errors = std::vector<ConfigError>;

constexpr uint64_t kMaxWorkers = 1024;
// Deadlines are computed as now() + timeout; a day keeps that far from any clock overflow.
constexpr uint64_t kMaxTimeoutMs = 86'400'000;
// Beast takes the header limit as a 32-bit value; a megabyte of headers is already absurd.
constexpr uint64_t kMaxHeaderBytes = 1'048'576;
// Bounds the memory that queued events may hold when the sink falls behind.
constexpr uint64_t kMaxQueueCapacity = 16'777'216;
// Spool bounds: a segment must hold a few events; a terabyte of backlog is far past any outage.
constexpr uint64_t kMinSegmentBytes = 4'096;
constexpr uint64_t kMaxSegmentBytes = 1ull << 30;
constexpr uint64_t kMaxSpoolBytes = 1ull << 40;
constexpr uint64_t kMaxIdleConnections = 65'536;
constexpr uint64_t kMaxConnections = 1'048'576;
constexpr uint64_t kMaxSpanBatch = 65'536;
// Every label value is a time series in every scraper: ten thousand is already a lot.
constexpr uint64_t kMaxLabelValues = 10'000;

constexpr std::string_view kPriceMessage =
    "must be a decimal string of USD per 1M tokens with at most 6 decimal places";

std::string quoteKey(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool isPlainKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

// Keys that are data (globs, header names, librdkafka properties) may hold dots or spaces, so
// they are quoted whenever a reader could not otherwise tell where the key ends.
std::string keyPath(const std::string& parent, std::string_view key, bool always_quote = false) {
  std::string out = parent;
  if (!out.empty()) out += '.';
  out += (always_quote || !isPlainKey(key)) ? quoteKey(key) : std::string(key);
  return out;
}

std::string indexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<uint64_t> parseUnsigned(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool isHttpToken(std::string_view name) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// The gateway owns message framing and the connection; an injected value for one of these
// would desynchronise it from the upstream.
bool isManagedHeader(std::string_view lower_name) {
  static constexpr std::string_view kManaged[] = {
      "host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
      "te",   "trailer",        "proxy-connection"};
  return std::find(std::begin(kManaged), std::end(kManaged), lower_name) != std::end(kManaged);
}

bool isHostChar(unsigned char c) { return std::isalnum(c) || c == '.' || c == '-' || c == '_'; }

bool isIpv6Literal(std::string_view text) {
  return !text.empty() && text.find(':') != std::string_view::npos &&
         std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; });
}

struct HostPort {
  std::string host;  // IPv6 literals without brackets
  std::optional<uint64_t> port;
  bool bad_port = false;
};

// "host", "host:port", "[v6]" or "[v6]:port". nullopt when the host part is malformed.
std::optional<HostPort> splitHostPort(std::string_view text) {
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view host = text.substr(1, close - 1);
    if (!isIpv6Literal(host)) return std::nullopt;
    out.host = std::string(host);
    rest = text.substr(close + 1);
  } else {
    const size_t colon = text.find(':');
    const std::string_view host = text.substr(0, colon);
    if (host.empty() ||
        !std::all_of(host.begin(), host.end(), [](unsigned char c) { return isHostChar(c); })) {
      return std::nullopt;
    }
    out.host = std::string(host);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) return out;
  if (rest.front() != ':') return std::nullopt;
  const auto port = parseUnsigned(rest.substr(1));
  if (!port || *port > 65535) {
    out.bad_port = true;
  } else {
    out.port = port;
  }
  return out;
}

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

class Loader {
 public:
  explicit Loader(const EnvLookup& env) : env_(env) {}

  std::variant<Config, Errors> load(std::string_view text) {
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

 private:
  void error(std::string path, std::string message) {
    errors_.push_back({std::move(path), std::move(message)});
  }

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
                    std::initializer_list<std::string_view> known) {
    if (node.IsNull()) return false;
    if (!node.IsMap()) {
      error(path, "expected a mapping");
      return false;
    }
    forEachEntry(node, path, false,
                 [&](const std::string& key, const YAML::Node&, const std::string& key_path) {
                   if (std::find(known.begin(), known.end(), key) == known.end()) {
                     error(key_path, "unknown key");
                   }
                 });
    return true;
  }

  // A map whose keys are data: must be a mapping (or null: empty).
  bool checkDataMap(const YAML::Node& node, const std::string& path, std::string_view expected) {
    if (node.IsNull()) return false;
    if (!node.IsMap()) {
      error(path, "expected " + std::string(expected));
      return false;
    }
    return true;
  }

  static std::optional<YAML::Node> child(const YAML::Node& map, std::string_view key) {
    const YAML::Node node = map[std::string(key)];
    if (!node.IsDefined()) return std::nullopt;
    return node;
  }

  // Replaces ${NAME} through the environment; "$${" stands for a literal "${".
  std::optional<std::string> substitute(std::string_view raw, const std::string& path) {
    std::string out;
    out.reserve(raw.size());
    bool ok = true;
    size_t i = 0;
    while (i < raw.size()) {
      if (raw.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        continue;
      }
      if (raw.compare(i, 2, "${") != 0) {
        out += raw[i++];
        continue;
      }
      const size_t close = raw.find('}', i + 2);
      if (close == std::string_view::npos) {
        error(path, "unterminated \"${\" (write \"$${\" for a literal \"${\")");
        return std::nullopt;
      }
      const std::string_view name = raw.substr(i + 2, close - i - 2);
      const bool valid_name =
          !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
          std::all_of(name.begin(), name.end(),
                      [](unsigned char c) { return std::isalnum(c) || c == '_'; });
      if (!valid_name) {
        error(path, "invalid environment variable reference \"${" + std::string(name) + "}\"");
        ok = false;
      } else if (auto value = env_ ? env_(name) : std::nullopt) {
        out += *value;
      } else {
        error(path, "environment variable " + std::string(name) + " is not set");
        ok = false;
      }
      i = close + 1;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  // The text of a scalar after substitution. yaml-cpp keeps a scalar's source text, so "0.60"
  // and 0.60 both arrive as "0.60"; typed readers below interpret it.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view expected) {
    if (!node.IsScalar()) {
      error(path, "expected " + std::string(expected));
      return std::nullopt;
    }
    return substitute(node.Scalar(), path);
  }

  std::optional<std::string> stringValue(const YAML::Node& node, const std::string& path) {
    return scalar(node, path, "a string");
  }

  std::optional<std::string> nonEmptyString(const YAML::Node& node, const std::string& path) {
    auto text = stringValue(node, path);
    if (text && text->empty()) {
      error(path, "must not be empty");
      return std::nullopt;
    }
    return text;
  }

  std::optional<uint64_t> integer(const YAML::Node& node, const std::string& path, uint64_t min,
                                  uint64_t max, std::string_view expected) {
    auto text = scalar(node, path, expected);
    if (!text) return std::nullopt;
    const auto value = parseUnsigned(*text);
    if (!value || *value < min || *value > max) {
      error(path, "expected " + std::string(expected));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& path) {
    static constexpr std::string_view kExpected = "a boolean (true or false)";
    auto text = scalar(node, path, kExpected);
    if (!text) return std::nullopt;
    const std::string lower = lowerAscii(*text);
    if (lower == "true") return true;
    if (lower == "false") return false;
    error(path, "expected " + std::string(kExpected));
    return std::nullopt;
  }

  std::optional<std::string> oneOf(const YAML::Node& node, const std::string& path,
                                   std::initializer_list<std::string_view> allowed,
                                   std::string_view message) {
    auto text = stringValue(node, path);
    if (!text) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *text) == allowed.end()) {
      error(path, std::string(message));
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> headerName(const YAML::Node& node, const std::string& path) {
    auto text = stringValue(node, path);
    if (!text) return std::nullopt;
    if (!isHttpToken(*text)) {
      error(path, "not a valid HTTP header name");
      return std::nullopt;
    }
    return lowerAscii(*text);
  }

  void loadRoot(const YAML::Node& root, Config& config) {
    if (!checkSection(root, "",
                      {"server", "upstreams", "prices", "price_version", "price_defaults", "events", "attribution",
                       "keys", "logging", "telemetry", "metrics", "access_log"})) {
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
  }

  std::optional<ListenAddress> listenAddress(const YAML::Node& node, const std::string& path) {
    auto text = stringValue(node, path);
    if (!text) return std::nullopt;
    const auto parts = splitHostPort(*text);
    if (!parts || (!parts->port && !parts->bad_port)) {
      error(path, "expected host:port (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")");
      return std::nullopt;
    }
    if (parts->bad_port) {
      error(path, "port must be an integer from 0 to 65535");
      return std::nullopt;
    }
    return ListenAddress{parts->host, static_cast<uint16_t>(*parts->port)};
  }

  void loadServer(const YAML::Node& node, ServerConfig& server) {
    const std::string path = "server";
    if (!checkSection(node, path,
                      {"listen", "admin_listen", "workers", "instance_id", "timeouts", "limits"})) {
      return;
    }
    if (auto n = child(node, "listen")) {
      if (auto address = listenAddress(*n, "server.listen")) server.listen = *address;
    }
    if (auto n = child(node, "admin_listen")) {
      if (auto address = listenAddress(*n, "server.admin_listen")) {
        server.admin_listen = *address;
        if (address->port != 0 && address->port == server.listen.port &&
            address->host == server.listen.host) {
          error("server.admin_listen", "must differ from server.listen");
        }
      }
    }
    if (auto n = child(node, "workers")) {
      if (auto v = integer(*n, "server.workers", 0, kMaxWorkers, "an integer from 0 to 1024")) {
        server.workers = static_cast<unsigned>(*v);
      }
    }
    if (auto n = child(node, "instance_id")) {
      if (auto text = stringValue(*n, "server.instance_id")) {
        const bool valid =
            text->size() <= 128 && std::all_of(text->begin(), text->end(), [](unsigned char c) {
              return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
            });
        if (valid) {
          server.instance_id = *text;
        } else {
          error("server.instance_id", "must be at most 128 characters of [A-Za-z0-9._:-]");
        }
      }
    }
    if (auto n = child(node, "timeouts")) loadTimeouts(*n, server.timeouts);
    if (auto n = child(node, "limits")) loadLimits(*n, server.limits);
  }

  void loadTimeouts(const YAML::Node& node, Timeouts& timeouts) {
    const std::string path = "server.timeouts";
    const std::pair<std::string_view, std::chrono::milliseconds*> fields[] = {
        {"client_header_ms", &timeouts.client_header},
        {"client_body_ms", &timeouts.client_body},
        {"client_idle_ms", &timeouts.client_idle},
        {"upstream_connect_ms", &timeouts.upstream_connect},
        {"upstream_response_ms", &timeouts.upstream_response},
        {"upstream_idle_ms", &timeouts.upstream_idle},
        {"upstream_total_ms", &timeouts.upstream_total},
        {"shutdown_drain_ms", &timeouts.shutdown_drain},
    };
    if (!checkSection(
            node, path,
            {"client_header_ms", "client_body_ms", "client_idle_ms", "upstream_connect_ms",
             "upstream_response_ms", "upstream_idle_ms", "upstream_total_ms",
             "shutdown_drain_ms"})) {
      return;
    }
    for (const auto& [key, target] : fields) {
      if (auto n = child(node, key)) {
        if (auto v = integer(*n, keyPath(path, key), 1, kMaxTimeoutMs,
                             "a positive integer of milliseconds (at most 86400000)")) {
          *target = std::chrono::milliseconds(static_cast<int64_t>(*v));
        }
      }
    }
  }

  void loadLimits(const YAML::Node& node, Limits& limits) {
    const std::string path = "server.limits";
    if (!checkSection(node, path,
                      {"max_header_bytes", "max_body_bytes", "max_connections_per_worker"})) {
      return;
    }
    if (auto n = child(node, "max_header_bytes")) {
      if (auto v = integer(*n, "server.limits.max_header_bytes", 1, kMaxHeaderBytes,
                           "a positive integer of bytes (at most 1048576)")) {
        limits.max_header_bytes = static_cast<size_t>(*v);
      }
    }
    if (auto n = child(node, "max_body_bytes")) {
      if (auto v = integer(*n, "server.limits.max_body_bytes", 1, SIZE_MAX,
                           "a positive integer of bytes")) {
        limits.max_body_bytes = static_cast<size_t>(*v);
      }
    }
    if (auto n = child(node, "max_connections_per_worker")) {
      if (auto v = integer(*n, "server.limits.max_connections_per_worker", 1, kMaxConnections,
                           "an integer from 1 to 1048576")) {
        limits.max_connections_per_worker = static_cast<size_t>(*v);
      }
    }
  }

  void loadUpstreams(const YAML::Node& node, std::vector<UpstreamConfig>& upstreams) {
    if (!node.IsSequence()) {
      error("upstreams", "expected a sequence of upstreams");
      return;
    }
    if (node.size() == 0) {
      error("upstreams", "must list at least one upstream");
      return;
    }
    std::map<std::string, size_t> first_index_by_name;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string path = indexPath("upstreams", i);
      UpstreamConfig upstream;
      loadUpstream(node[i], path, upstream);
      if (!upstream.name.empty()) {
        const auto [it, inserted] = first_index_by_name.emplace(upstream.name, i);
        if (!inserted) {
          error(path + ".name", "duplicate upstream name " + quoteKey(upstream.name) +
                                    " (already used by " + indexPath("upstreams", it->second) +
                                    ")");
        }
      }
      upstreams.push_back(std::move(upstream));
    }
  }

  void loadUpstream(const YAML::Node& node, const std::string& path, UpstreamConfig& upstream) {
    if (!node.IsMap()) {
      error(path, "expected a mapping");
      return;
    }
    checkSection(
        node, path,
        {"name", "dialect", "base_url", "models", "headers", "tls", "max_idle_connections",
         "idle_keepalive_ms", "passthrough_auth"});

    if (auto n = child(node, "name")) {
      const std::string name_path = path + ".name";
      if (auto text = stringValue(*n, name_path)) {
        const bool valid = !text->empty() && text->size() <= 64 &&
                           std::all_of(text->begin(), text->end(), [](unsigned char c) {
                             return std::isalnum(c) || c == '_' || c == '.' || c == '-';
                           });
        if (valid) {
          upstream.name = *text;
        } else {
          error(name_path, "must be 1 to 64 characters of [A-Za-z0-9_.-]");
        }
      }
    } else {
      error(path + ".name", "is required");
    }

    if (auto n = child(node, "dialect")) {
      if (auto text = oneOf(*n, path + ".dialect", {"openai", "anthropic", "gemini", "ollama"},
                            "must be one of openai, anthropic, gemini, ollama")) {
        upstream.dialect = *text;
      }
    } else {
      error(path + ".dialect", "is required");
    }

    if (auto n = child(node, "base_url")) {
      const std::string url_path = path + ".base_url";
      if (auto text = stringValue(*n, url_path)) parseBaseUrl(*text, url_path, upstream);
    } else {
      error(path + ".base_url", "is required");
    }

    if (auto n = child(node, "models")) {
      loadModels(*n, path + ".models", upstream.models);
    } else {
      error(path + ".models", "is required");
    }

    if (auto n = child(node, "headers"))
      loadUpstreamHeaders(*n, path + ".headers", upstream.headers);
    if (auto n = child(node, "tls")) loadTls(*n, path + ".tls", upstream.tls);
    if (auto n = child(node, "max_idle_connections")) {
      if (auto v = integer(*n, path + ".max_idle_connections", 0, kMaxIdleConnections,
                           "an integer from 0 to 65536")) {
        upstream.max_idle_connections = static_cast<size_t>(*v);
      }
    }
    if (auto n = child(node, "idle_keepalive_ms")) {
      if (auto v = integer(*n, path + ".idle_keepalive_ms", 1, kMaxTimeoutMs,
                           "a positive integer of milliseconds (at most 86400000)")) {
        upstream.idle_keepalive = std::chrono::milliseconds(static_cast<int64_t>(*v));
      }
    }
    if (auto n = child(node, "passthrough_auth")) {
      if (auto v = boolean(*n, path + ".passthrough_auth")) upstream.passthrough_auth = *v;
    }
    upstream.endpoint_id = endpointIdentity(upstream);
  }

  void parseBaseUrl(const std::string& url, const std::string& path, UpstreamConfig& upstream) {
    const size_t scheme_end = url.find("://");
    const std::string scheme =
        scheme_end == std::string::npos ? std::string() : lowerAscii(url.substr(0, scheme_end));
    if (scheme != "http" && scheme != "https") {
      error(path, "must start with http:// or https://");
      return;
    }
    if (url.find_first_of("?#") != std::string::npos) {
      error(path, "must not contain a query or fragment");
      return;
    }
    if (std::any_of(url.begin(), url.end(),
                    [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
      error(path, "must not contain spaces or control characters");
      return;
    }
    const std::string rest = url.substr(scheme_end + 3);
    const size_t path_start = rest.find('/');
    const std::string authority = rest.substr(0, path_start);
    if (authority.find('@') != std::string::npos) {
      error(path, "must not contain userinfo (put credentials in headers)");
      return;
    }
    const auto parts = splitHostPort(authority);
    if (!parts) {
      error(path, "has no valid host");
      return;
    }
    if (parts->bad_port || (parts->port && *parts->port == 0)) {
      error(path, "port must be an integer from 1 to 65535");
      return;
    }
    std::string base_path = path_start == std::string::npos ? "" : rest.substr(path_start);
    while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();

    upstream.base_url = url;
    upstream.scheme = scheme;
    upstream.host = parts->host;
    upstream.port = static_cast<uint16_t>(parts->port.value_or(scheme == "https" ? 443 : 80));
    upstream.base_path = base_path;
    // The Host field sent upstream: brackets around an IPv6 literal, the port unless default.
    const bool default_port = upstream.port == (scheme == "https" ? 443 : 80);
    const bool v6 = upstream.host.find(':') != std::string::npos;
    upstream.host_header = v6 ? "[" + upstream.host + "]" : upstream.host;
    if (!default_port) upstream.host_header += ":" + std::to_string(upstream.port);
  }

  void loadModels(const YAML::Node& node, const std::string& path,
                  std::vector<std::string>& models) {
    if (!node.IsSequence()) {
      error(path, "expected a sequence of model globs");
      return;
    }
    if (node.size() == 0) {
      error(path, "must list at least one model glob");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = indexPath(path, i);
      auto text = stringValue(node[i], item_path);
      if (!text) continue;
      if (auto problem = meter::globError(*text)) {
        error(item_path, "invalid glob: " + *problem);
        continue;
      }
      models.push_back(*text);
    }
  }

  void loadUpstreamHeaders(const YAML::Node& node, const std::string& path,
                           std::vector<std::pair<std::string, std::string>>& headers) {
    if (!checkDataMap(node, path, "a mapping of header name to value")) return;
    forEachEntry(node, path, false,
                 [&](const std::string& key, const YAML::Node& value, const std::string& key_path) {
                   if (!isHttpToken(key)) {
                     error(key_path, "not a valid HTTP header name");
                     return;
                   }
                   const std::string name = lowerAscii(key);
                   if (isManagedHeader(name)) {
                     error(key_path, "is managed by the gateway and cannot be injected");
                     return;
                   }
                   const auto same = std::find_if(headers.begin(), headers.end(),
                                                  [&](const auto& h) { return h.first == name; });
                   if (same != headers.end()) {
                     error(key_path, "duplicate header (header names are case-insensitive)");
                     return;
                   }
                   auto text = stringValue(value, key_path);
                   if (!text) return;
                   if (text->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
                     error(key_path, "header value must not contain CR, LF or NUL");
                     return;
                   }
                   headers.emplace_back(name, std::move(*text));
                 });
  }

  void loadTls(const YAML::Node& node, const std::string& path, UpstreamTls& tls) {
    if (!checkSection(node, path, {"verify", "ca_file", "server_name"})) return;
    if (auto n = child(node, "verify")) {
      if (auto v = boolean(*n, path + ".verify")) tls.verify = *v;
    }
    if (auto n = child(node, "ca_file")) {
      if (auto text = stringValue(*n, path + ".ca_file")) {
        tls.ca_file = *text;
        // Checked here so that --check-config and a start fail on it, not the first call.
        std::ifstream in(*text, std::ios::binary);
        std::error_code ec;
        if (text->empty()) {
          error(path + ".ca_file", "must not be empty (omit it for the system's CA paths)");
        } else if (std::filesystem::is_directory(*text, ec) || !in) {
          error(path + ".ca_file", "cannot read " + quoteKey(*text) + " (a PEM CA bundle)");
        }
      }
    }
    if (auto n = child(node, "server_name")) {
      if (auto text = stringValue(*n, path + ".server_name")) tls.server_name = *text;
    }
  }

  std::optional<meter::PicoPerToken> price(const YAML::Node& node, const std::string& path) {
    auto text = scalar(node, path, "a decimal string of USD per 1M tokens");
    if (!text) return std::nullopt;
    auto value = meter::parsePerMillionPrice(*text);
    if (!value) error(path, std::string(kPriceMessage));
    return value;
  }

  void loadPrices(const YAML::Node& node, std::vector<meter::PriceEntry>& prices,
                  const std::string& path = "prices") {
    if (!checkDataMap(node, path, "a mapping of model glob to price")) return;
    forEachEntry(
        node, path, true,
        [&](const std::string& pattern, const YAML::Node& value, const std::string& entry_path) {
          if (auto problem = meter::globError(pattern)) {
            error(entry_path, "invalid glob: " + *problem);
          }
          // One price, or a list of prices with effective dates for the same glob.
          if (value.IsSequence()) {
            for (size_t i = 0; i < value.size(); ++i) {
              loadPriceEntry(pattern, value[i], entry_path + "[" + std::to_string(i) + "]", prices);
            }
            return;
          }
          loadPriceEntry(pattern, value, entry_path, prices);
        });
  }

  // input/output (required), cache_read, cache_write, cache_write_1h, reasoning: one price.
  std::optional<meter::Price> loadPrice(const YAML::Node& value, const std::string& path,
                                        std::initializer_list<std::string_view> extra_keys) {
    if (!value.IsMap()) {
      error(path, "expected a mapping with input and output prices");
      return std::nullopt;
    }
    std::vector<std::string_view> known = {"input", "output", "cache_read", "cache_write",
                                           "cache_write_1h", "reasoning"};
    known.insert(known.end(), extra_keys.begin(), extra_keys.end());
    forEachEntry(value, path, false,
                 [&](const std::string& key, const YAML::Node&, const std::string& key_path) {
                   if (std::find(known.begin(), known.end(), key) == known.end()) {
                     error(key_path, "unknown key");
                   }
                 });
    bool ok = true;
    auto read = [&](std::string_view key, bool required) {
      std::optional<meter::PicoPerToken> out;
      const std::string key_path = keyPath(path, key);
      if (auto n = child(value, key)) {
        out = price(*n, key_path);
        if (!out) ok = false;
      } else if (required) {
        error(key_path, "is required");
        ok = false;
      }
      return out;
    };
    const auto input = read("input", true);
    const auto output = read("output", true);
    const auto cache_read = read("cache_read", false);
    const auto cache_write = read("cache_write", false);
    const auto cache_write_1h = read("cache_write_1h", false);
    const auto reasoning = read("reasoning", false);
    if (!ok) return std::nullopt;
    meter::Price price;
    price.input = *input;
    price.output = *output;
    price.cache_read = cache_read.value_or(*input);
    price.cache_write = cache_write.value_or(*input);
    price.cache_write_1h = cache_write_1h.value_or(price.cache_write);
    price.reasoning = reasoning.value_or(*output);
    return price;
  }

  // "YYYY-MM-DD" (00:00 UTC) as unix nanoseconds.
  std::optional<int64_t> date(const YAML::Node& node, const std::string& path) {
    auto text = scalar(node, path, "a date YYYY-MM-DD");
    if (!text) return std::nullopt;
    int y = 0, m = 0, d = 0;
    char tail = 0;
    if (text->size() != 10 || std::sscanf(text->c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        m < 1 || m > 12 || d < 1 || d > 31 || y < 1970) {
      error(path, "expected a date YYYY-MM-DD");
      return std::nullopt;
    }
    // Days from the civil date (H. Hinnant's algorithm), then nanoseconds.
    y -= m <= 2;
    const int era = y / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const int64_t days = int64_t{era} * 146097 + doe - 719468;
    return days * 86'400 * 1'000'000'000;
  }

  void loadPriceEntry(const std::string& pattern, const YAML::Node& value, const std::string& path,
                      std::vector<meter::PriceEntry>& prices) {
    auto base = loadPrice(value, path,
                          {"tiers", "variants", "effective_from", "effective_until",
                           "max_context_tokens"});
    if (!base) return;
    meter::PriceEntry entry;
    entry.pattern = pattern;
    entry.price = *base;
    bool ok = true;
    if (auto n = child(value, "max_context_tokens")) {
      auto tokens = integer(*n, keyPath(path, "max_context_tokens"), 1,
                            static_cast<uint64_t>(meter::kMaxCallTokens),
                            "a positive number of tokens, at most 1000000000");
      ok = ok && tokens.has_value();
      if (tokens) entry.max_context_tokens = static_cast<int64_t>(*tokens);
    }
    if (auto n = child(value, "effective_from")) {
      auto at = date(*n, keyPath(path, "effective_from"));
      ok = ok && at.has_value();
      if (at) entry.effective_from_ns = *at;
    }
    if (auto n = child(value, "effective_until")) {
      auto at = date(*n, keyPath(path, "effective_until"));
      ok = ok && at.has_value();
      if (at) entry.effective_until_ns = *at;
    }
    if (ok && entry.effective_until_ns <= entry.effective_from_ns) {
      error(keyPath(path, "effective_until"), "must be after effective_from");
      ok = false;
    }
    // tiers: [{above_input_tokens: N, input: ..., output: ...}], ascending thresholds.
    auto loadTiers = [&](const YAML::Node& owner, const std::string& owner_path,
                         std::vector<meter::PriceTier>& tiers) {
      auto n = child(owner, "tiers");
      if (!n) return;
      const std::string tiers_path = keyPath(owner_path, "tiers");
      if (!n->IsSequence()) {
        error(tiers_path, "expected a list of {above_input_tokens, input, output, ...}");
        ok = false;
        return;
      }
      for (size_t i = 0; i < n->size(); ++i) {
        const std::string tier_path = tiers_path + "[" + std::to_string(i) + "]";
        const YAML::Node tier_node = (*n)[i];
        auto tier_price = loadPrice(tier_node, tier_path, {"above_input_tokens"});
        std::optional<uint64_t> above;
        if (auto t = child(tier_node, "above_input_tokens")) {
          above = integer(*t, keyPath(tier_path, "above_input_tokens"), 1, INT64_MAX,
                          "a positive number of input tokens");
        } else if (tier_node.IsMap()) {
          error(keyPath(tier_path, "above_input_tokens"), "is required");
        }
        if (!tier_price || !above) {
          ok = false;
          continue;
        }
        if (!tiers.empty() && static_cast<int64_t>(*above) <= tiers.back().above_input_tokens) {
          error(keyPath(tier_path, "above_input_tokens"), "tiers must have ascending thresholds");
          ok = false;
          continue;
        }
        tiers.push_back({static_cast<int64_t>(*above), *tier_price});
      }
    };
    loadTiers(value, path, entry.tiers);
    std::vector<meter::PriceEntry> variants;
    if (auto n = child(value, "variants")) {
      const std::string variants_path = keyPath(path, "variants");
      if (checkSection(*n, variants_path, {"batch", "priority", "flex"})) {
        forEachEntry(*n, variants_path, false,
                     [&](const std::string& name, const YAML::Node& v, const std::string& v_path) {
                       auto variant_price = loadPrice(v, v_path, {"tiers"});
                       if (!variant_price) {
                         ok = false;
                         return;
                       }
                       meter::PriceEntry variant = entry;
                       variant.price = *variant_price;
                       variant.tiers.clear();
                       variant.variant = name;
                       loadTiers(v, v_path, variant.tiers);
                       variants.push_back(std::move(variant));
                     });
      }
    }
    if (!ok) return;
    prices.push_back(std::move(entry));
    for (auto& variant : variants) prices.push_back(std::move(variant));
  }

  // The bundled catalog (config/prices.default.yaml), the base under the user's prices.
  void loadDefaultPrices(Config& config) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(defaultPriceCatalogYaml()));
    } catch (const YAML::ParserException& e) {
      error("price_defaults", "the bundled price catalog does not parse: " + e.msg);
      return;
    }
    std::string version = "default";
    if (auto n = child(root, "version")) {
      if (auto text = nonEmptyString(*n, "price_defaults.version")) version = *text;
    }
    if (auto n = child(root, "prices")) {
      loadPrices(*n, config.default_prices, "price_defaults.prices");
    }
    for (auto& entry : config.default_prices) entry.catalog = version;
  }

  void loadEvents(const YAML::Node& node, EventsConfig& events) {
    if (!checkSection(node, "events", {"sink", "durability", "file", "kafka", "spool"})) return;
    if (auto n = child(node, "sink")) {
      if (auto text = oneOf(*n, "events.sink", {"file", "kafka", "none"},
                            "must be file, kafka or none")) {
        events.sink = *text;
      }
    }
    if (auto n = child(node, "durability")) {
      if (auto text = oneOf(*n, "events.durability", {"spool", "memory"},
                            "must be spool or memory")) {
        events.durability = *text;
      }
    }
    if (auto n = child(node, "spool");
        n && checkSection(*n, "events.spool",
                                 {"dir", "max_bytes", "segment_bytes", "fsync_interval_ms",
                                  "mmap"})) {
      loadSpool(*n, events.spool);
    }
    if (auto n = child(node, "file");
        n && checkSection(*n, "events.file", {"path", "queue_capacity"})) {
      if (auto p = child(*n, "path")) {
        if (auto text = nonEmptyString(*p, "events.file.path")) events.file.path = *text;
      }
      if (auto q = child(*n, "queue_capacity")) {
        if (auto v = integer(*q, "events.file.queue_capacity", 1, kMaxQueueCapacity,
                             "a positive integer of events (at most 16777216)")) {
          events.file.queue_capacity = static_cast<size_t>(*v);
        }
      }
    }
    if (auto n = child(node, "kafka");
        n && checkSection(*n, "events.kafka", {"brokers", "topic", "key", "properties",
                                               "flush_timeout_ms", "queue_capacity"})) {
      loadKafka(*n, events.kafka);
    }
  }

  void loadSpool(const YAML::Node& node, SpoolConfig& spool) {
    if (auto n = child(node, "dir")) {
      if (auto text = nonEmptyString(*n, "events.spool.dir")) spool.dir = *text;
    }
    if (auto n = child(node, "segment_bytes")) {
      if (auto v = integer(*n, "events.spool.segment_bytes", kMinSegmentBytes, kMaxSegmentBytes,
                           "an integer of bytes from 4096 to 1073741824")) {
        spool.segment_bytes = *v;
      }
    }
    if (auto n = child(node, "max_bytes")) {
      if (auto v = integer(*n, "events.spool.max_bytes", kMinSegmentBytes, kMaxSpoolBytes,
                           "an integer of bytes from 4096 to 1099511627776")) {
        spool.max_bytes = *v;
      }
    }
    if (auto n = child(node, "fsync_interval_ms")) {
      if (auto v = integer(*n, "events.spool.fsync_interval_ms", 0, 60000,
                           "an integer of milliseconds from 0 (never) to 60000")) {
        spool.fsync_interval = std::chrono::milliseconds(static_cast<int64_t>(*v));
      }
    }
    if (auto n = child(node, "mmap")) {
      if (auto v = boolean(*n, "events.spool.mmap")) spool.mmap = *v;
    }
    // A segment is the unit of deletion: the bound must hold at least one whole segment.
    if (spool.max_bytes < spool.segment_bytes) {
      error("events.spool.max_bytes", "must be at least events.spool.segment_bytes (" +
                                          std::to_string(spool.segment_bytes) + ")");
    }
  }

  void loadKafka(const YAML::Node& node, KafkaSinkConfig& kafka) {
    if (auto n = child(node, "brokers")) {
      if (auto text = nonEmptyString(*n, "events.kafka.brokers")) kafka.brokers = *text;
    }
    if (auto n = child(node, "key")) {
      if (auto text = oneOf(*n, "events.kafka.key",
                            {"team", "project", "cost_center", "workload_type", "environment",
                             "none"},
                            "must be one of team, project, cost_center, workload_type, "
                            "environment, none")) {
        kafka.key = *text;
      }
    }
    if (auto n = child(node, "flush_timeout_ms")) {
      if (auto v = integer(*n, "events.kafka.flush_timeout_ms", 0, kMaxTimeoutMs,
                           "an integer of milliseconds from 0 to 86400000")) {
        kafka.flush_timeout = std::chrono::milliseconds(static_cast<int64_t>(*v));
      }
    }
    if (auto n = child(node, "queue_capacity")) {
      if (auto v = integer(*n, "events.kafka.queue_capacity", 1, kMaxQueueCapacity,
                           "a positive integer of events (at most 16777216)")) {
        kafka.queue_capacity = static_cast<size_t>(*v);
      }
    }
    if (auto n = child(node, "topic")) {
      if (auto text = stringValue(*n, "events.kafka.topic")) {
        // Kafka's own rule for topic names.
        const bool valid = !text->empty() && text->size() <= 249 && *text != "." && *text != ".." &&
                           std::all_of(text->begin(), text->end(), [](unsigned char c) {
                             return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                           });
        if (valid) {
          kafka.topic = *text;
        } else {
          error("events.kafka.topic", "must be 1 to 249 characters of [A-Za-z0-9._-]");
        }
      }
    }
    if (auto n = child(node, "properties");
        n &&
        checkDataMap(*n, "events.kafka.properties", "a mapping of librdkafka property to value")) {
      forEachEntry(
          *n, "events.kafka.properties", false,
          [&](const std::string& key, const YAML::Node& value, const std::string& key_path) {
            if (key.empty()) {
              error(key_path, "property name must not be empty");
              return;
            }
            if (auto text = stringValue(value, key_path)) kafka.properties.emplace_back(key, *text);
          });
    }
  }

  void loadAttribution(const YAML::Node& node, AttributionHeaders& attribution) {
    if (!checkSection(node, "attribution", {"headers", "mode", "required", "tags"})) return;
    const auto headers = child(node, "headers");
    const std::string path = "attribution.headers";
    if (!headers ||
        !checkSection(*headers, path,
                      {"team", "project", "cost_center", "workload_type", "environment", "tags"})) {
      return;
    }
    const std::pair<std::string_view, std::string*> fields[] = {
        {"team", &attribution.team},
        {"project", &attribution.project},
        {"cost_center", &attribution.cost_center},
        {"workload_type", &attribution.workload_type},
        {"environment", &attribution.environment},
        {"tags", &attribution.tags},
    };
    for (const auto& [key, target] : fields) {
      if (auto n = child(*headers, key)) {
        if (auto name = headerName(*n, keyPath(path, key))) *target = *name;
      }
    }
    // One request header feeding two dimensions would silently copy a team into a project.
    for (size_t i = 0; i < std::size(fields); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (*fields[i].second == *fields[j].second) {
          error(keyPath(path, fields[i].first), "header " + *fields[i].second +
                                                    " is already used by " +
                                                    keyPath(path, fields[j].first));
          break;
        }
      }
    }
  }

  void loadAttributionPolicy(const YAML::Node& node, AttributionPolicy& policy) {
    if (!node.IsMap()) return;  // reported by loadAttribution
    if (auto n = child(node, "mode")) {
      if (auto text = oneOf(*n, "attribution.mode", {"enforce", "warn"},
                            "must be enforce or warn")) {
        policy.enforce = *text == "enforce";
      }
    }
    if (auto n = child(node, "required")) {
      const std::string path = "attribution.required";
      policy.required.clear();
      if (!n->IsNull() && !n->IsSequence()) {
        error(path, "expected a sequence of label names");
      } else if (n->IsSequence()) {
        for (size_t i = 0; i < n->size(); ++i) {
          const std::string item_path = indexPath(path, i);
          auto text = oneOf((*n)[i], item_path,
                            {"team", "project", "cost_center", "workload_type", "environment"},
                            "must be one of team, project, cost_center, workload_type, "
                            "environment");
          if (!text) continue;
          if (std::find(policy.required.begin(), policy.required.end(), *text) !=
              policy.required.end()) {
            error(item_path, "duplicate label " + quoteKey(*text));
            continue;
          }
          policy.required.push_back(*text);
        }
      }
    }
    if (auto n = child(node, "tags");
        n && checkSection(*n, "attribution.tags",
                          {"max_count", "max_key_bytes", "max_value_bytes"})) {
      const std::pair<std::string_view, size_t*> fields[] = {
          {"max_count", &policy.tags.max_count},
          {"max_key_bytes", &policy.tags.max_key_bytes},
          {"max_value_bytes", &policy.tags.max_value_bytes},
      };
      for (const auto& [key, target] : fields) {
        if (auto v = child(*n, key)) {
          if (auto value = integer(*v, keyPath("attribution.tags", key), 1, 1024,
                                   "an integer from 1 to 1024")) {
            *target = static_cast<size_t>(*value);
          }
        }
      }
    }
  }

  std::optional<std::string> labelValue(const YAML::Node& node, const std::string& path) {
    auto text = stringValue(node, path);
    if (!text) return std::nullopt;
    if (!isValidLabelValue(*text)) {
      error(path, "must be 1 to 64 characters of [A-Za-z0-9._:/-]");
      return std::nullopt;
    }
    return text;
  }

  void loadKeys(const YAML::Node& node, std::vector<KeyConfig>& keys) {
    // An empty list would silently open the gateway: removing the section is the way to do that.
    if (node.IsNull() || (node.IsSequence() && node.size() == 0)) {
      error("keys", "must list at least one key (remove the keys section to run open)");
      return;
    }
    if (!node.IsSequence()) {
      error("keys", "expected a sequence of keys");
      return;
    }
    std::map<std::string, size_t> first_by_id;
    std::map<std::string, size_t> first_by_hash;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string path = indexPath("keys", i);
      const YAML::Node& entry = node[i];
      if (!entry.IsMap()) {
        error(path, "expected a mapping");
        continue;
      }
      checkSection(entry, path,
                   {"id", "sha256", "team", "cost_center", "projects", "environment", "models"});
      KeyConfig key;
      if (auto n = child(entry, "id")) {
        if (auto text = stringValue(*n, path + ".id")) {
          const bool valid = !text->empty() && text->size() <= 64 &&
                             std::all_of(text->begin(), text->end(), [](unsigned char c) {
                               return std::isalnum(c) || c == '.' || c == '_' || c == '-' ||
                                      c == ':';
                             });
          if (!valid) {
            error(path + ".id", "must be 1 to 64 characters of [A-Za-z0-9._:-]");
          } else if (const auto [it, inserted] = first_by_id.emplace(*text, i); !inserted) {
            error(path + ".id", "duplicate key id " + quoteKey(*text) + " (already used by " +
                                    indexPath("keys", it->second) + ")");
          } else {
            key.id = *text;
          }
        }
      } else {
        error(path + ".id", "is required");
      }
      if (auto n = child(entry, "sha256")) {
        if (auto text = stringValue(*n, path + ".sha256")) {
          const std::string hex = lowerAscii(*text);
          const bool valid = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                             });
          if (!valid) {
            error(path + ".sha256",
                  "must be 64 hexadecimal digits (the SHA-256 of the key, never the key)");
          } else if (const auto [it, inserted] = first_by_hash.emplace(hex, i); !inserted) {
            error(path + ".sha256",
                  "same key as " + indexPath("keys", it->second) + " (hashes must be unique)");
          } else {
            key.sha256 = hex;
          }
        }
      } else {
        error(path + ".sha256", "is required");
      }
      const std::pair<std::string_view, std::string*> labels[] = {
          {"team", &key.team}, {"cost_center", &key.cost_center},
          {"environment", &key.environment}};
      for (const auto& [name, target] : labels) {
        if (auto n = child(entry, name)) {
          if (auto text = labelValue(*n, keyPath(path, name))) *target = *text;
        }
      }
      if (auto n = child(entry, "projects"); n && !n->IsNull()) {
        const std::string list_path = path + ".projects";
        if (!n->IsSequence()) {
          error(list_path, "expected a sequence of project names");
        } else {
          for (size_t p = 0; p < n->size(); ++p) {
            auto text = labelValue((*n)[p], indexPath(list_path, p));
            if (!text) continue;
            if (std::find(key.projects.begin(), key.projects.end(), *text) !=
                key.projects.end()) {
              error(indexPath(list_path, p), "duplicate project " + quoteKey(*text));
              continue;
            }
            key.projects.push_back(*text);
          }
        }
      }
      if (auto n = child(entry, "models"); n && !n->IsNull()) {
        loadModels(*n, path + ".models", key.models);
      }
      keys.push_back(std::move(key));
    }
  }

  void loadLogging(const YAML::Node& node, LoggingConfig& logging) {
    if (!checkSection(node, "logging", {"level"})) return;
    if (auto n = child(node, "level")) {
      if (auto text = oneOf(*n, "logging.level", {"trace", "debug", "info", "warn", "error", "off"},
                            "must be one of trace, debug, info, warn, error, off")) {
        logging.level = *text;
      }
    }
  }

  void loadTelemetry(const YAML::Node& node, TelemetryConfig& telemetry) {
    if (!checkSection(node, "telemetry",
                      {"otlp_endpoint", "sample_ratio", "service_name", "queue_size", "batch_size",
                       "export_interval_ms"})) {
      return;
    }
    if (auto n = child(node, "otlp_endpoint")) {
      if (auto text = stringValue(*n, "telemetry.otlp_endpoint"); text && !text->empty()) {
        // The exporter speaks plain HTTP: a collector normally runs beside the gateway.
        UpstreamConfig parsed;
        const size_t before = errors_.size();
        if (lowerAscii(text->substr(0, 8)) == "https://") {
          error("telemetry.otlp_endpoint",
                "must start with http:// (run an OpenTelemetry Collector for TLS)");
        } else {
          parseBaseUrl(*text, "telemetry.otlp_endpoint", parsed);
        }
        if (errors_.size() == before) {
          telemetry.otlp_endpoint = *text;
          telemetry.otlp_host = parsed.host;
          telemetry.otlp_port = parsed.port;
          telemetry.otlp_path = parsed.base_path + "/v1/traces";
        }
      }
    }
    if (auto n = child(node, "sample_ratio")) {
      static constexpr std::string_view kExpected = "a number from 0 to 1";
      if (auto text = scalar(*n, "telemetry.sample_ratio", kExpected)) {
        char* end = nullptr;
        errno = 0;
        const double ratio = std::strtod(text->c_str(), &end);
        const bool digits_only =
            !text->empty() && std::all_of(text->begin(), text->end(), [](unsigned char c) {
              return std::isdigit(c) || c == '.';
            });
        if (!digits_only || errno != 0 || end != text->c_str() + text->size() || ratio < 0.0 ||
            ratio > 1.0) {
          error("telemetry.sample_ratio", "expected " + std::string(kExpected));
        } else {
          telemetry.sample_ratio = ratio;
        }
      }
    }
    if (auto n = child(node, "service_name")) {
      if (auto text = nonEmptyString(*n, "telemetry.service_name")) telemetry.service_name = *text;
    }
    if (auto n = child(node, "queue_size")) {
      if (auto v = integer(*n, "telemetry.queue_size", 1, kMaxQueueCapacity,
                           "a positive integer of spans (at most 16777216)")) {
        telemetry.queue_size = static_cast<size_t>(*v);
      }
    }
    if (auto n = child(node, "batch_size")) {
      if (auto v = integer(*n, "telemetry.batch_size", 1, kMaxSpanBatch,
                           "a positive integer of spans (at most 65536)")) {
        telemetry.batch_size = static_cast<size_t>(*v);
      }
    }
    if (auto n = child(node, "export_interval_ms")) {
      if (auto v = integer(*n, "telemetry.export_interval_ms", 1, kMaxTimeoutMs,
                           "a positive integer of milliseconds (at most 86400000)")) {
        telemetry.export_interval = std::chrono::milliseconds(*v);
      }
    }
  }

  void loadMetrics(const YAML::Node& node, MetricsConfig& metrics) {
    if (!checkSection(node, "metrics", {"max_label_values"})) return;
    if (auto n = child(node, "max_label_values")) {
      if (auto v = integer(*n, "metrics.max_label_values", 1, kMaxLabelValues,
                           "a positive integer (at most 10000)")) {
        metrics.max_label_values = static_cast<size_t>(*v);
      }
    }
  }

  void loadAccessLog(const YAML::Node& node, AccessLogConfig& access_log) {
    if (!checkSection(node, "access_log", {"enabled", "format", "path"})) return;
    if (auto n = child(node, "enabled")) {
      if (auto v = boolean(*n, "access_log.enabled")) access_log.enabled = *v;
    }
    if (auto n = child(node, "format")) {
      if (auto text = oneOf(*n, "access_log.format", {"json", "kv"}, "must be json or kv")) {
        access_log.format = *text;
      }
    }
    if (auto n = child(node, "path")) {
      if (auto text = nonEmptyString(*n, "access_log.path")) access_log.path = *text;
    }
  }

  // A model glob is taken as covered when some price glob matches its text: "gpt-4o*" matches
  // the price "gpt-4o*" (the star matches itself) but "*" is only covered by a price "*".
  static void addPriceWarnings(Config& config) {
    for (size_t u = 0; u < config.upstreams.size(); ++u) {
      const auto& models = config.upstreams[u].models;
      for (size_t m = 0; m < models.size(); ++m) {
        const bool covered = std::any_of(
            config.prices.begin(), config.prices.end(),
            [&](const auto& entry) { return meter::globMatch(entry.pattern, models[m]); });
        if (!covered) {
          config.warnings.push_back(indexPath(indexPath("upstreams", u) + ".models", m) +
                                    ": models matching " + quoteKey(models[m]) +
                                    " may have no price (their events will say \"priced\": "
                                    "false)");
        }
      }
    }
  }

  const EnvLookup& env_;
  Errors errors_;
};

}  // namespace

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
