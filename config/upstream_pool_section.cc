// Loader: an upstream's pool (endpoints, balancer, health checks, outlier ejection, retries,
// fallbacks, load signal) and the checks across upstreams that fallbacks need.
#include <functional>
#include <map>

#include "config/loader.h"
#include "meter/glob.h"

namespace tollgate::config {
namespace {

constexpr uint64_t kMaxEndpoints = 256;
constexpr uint64_t kMaxWeight = 10'000;
constexpr uint64_t kMaxAttempts = 10;
constexpr uint64_t kMaxOutstanding = 1'000'000;
constexpr uint64_t kMaxConsecutive = 1'000;
constexpr uint64_t kMaxPerSecond = 1'000'000;

// "0.2", "1", "0.000001": a ratio from 0 to 1 in millionths; nullopt for anything else.
std::optional<uint32_t> parseRatioPpm(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || fraction.size() > 6 || (dot != std::string_view::npos && fraction.empty())) {
    return std::nullopt;
  }
  const auto units = parseUnsigned(whole);
  if (!units || *units > 1) return std::nullopt;
  uint64_t ppm = *units * 1'000'000;
  uint64_t scale = 100'000;
  for (char c : fraction) {
    if (c < '0' || c > '9') return std::nullopt;
    ppm += static_cast<uint64_t>(c - '0') * scale;
    scale /= 10;
  }
  if (ppm > 1'000'000) return std::nullopt;
  return static_cast<uint32_t>(ppm);
}

UpstreamEndpoint endpointOf(const UpstreamConfig& upstream) {
  UpstreamEndpoint endpoint;
  endpoint.base_url = upstream.base_url;
  endpoint.scheme = upstream.scheme;
  endpoint.host = upstream.host;
  endpoint.port = upstream.port;
  endpoint.base_path = upstream.base_path;
  endpoint.host_header = upstream.host_header;
  return endpoint;
}

// The endpoint's identity is the single-endpoint identity of the upstream it stands for.
std::string identityOf(const UpstreamConfig& upstream, const UpstreamEndpoint& endpoint) {
  UpstreamConfig view;
  view.scheme = endpoint.scheme;
  view.host = endpoint.host;
  view.port = endpoint.port;
  view.host_header = endpoint.host_header;
  view.headers = endpoint.headers;
  view.tls = upstream.tls;
  return endpointIdentity(view);
}

}  // namespace

void Loader::loadUpstreamPool(const YAML::Node& node, const std::string& path,
                              UpstreamConfig& upstream) {
  if (auto n = child(node, "endpoints")) {
    if (child(node, "base_url")) {
      error(path + ".endpoints", "give either base_url or endpoints, not both");
    } else {
      loadEndpoints(*n, path + ".endpoints", upstream);
    }
  } else if (!upstream.scheme.empty()) {
    UpstreamEndpoint endpoint = endpointOf(upstream);
    endpoint.headers = upstream.headers;
    upstream.endpoints.push_back(std::move(endpoint));
  }
  for (auto& endpoint : upstream.endpoints) endpoint.endpoint_id = identityOf(upstream, endpoint);
  if (!upstream.endpoints.empty()) {
    // Code that knows one endpoint per upstream sees the first.
    const UpstreamEndpoint& first = upstream.endpoints.front();
    upstream.base_url = first.base_url;
    upstream.scheme = first.scheme;
    upstream.host = first.host;
    upstream.port = first.port;
    upstream.base_path = first.base_path;
    upstream.host_header = first.host_header;
    upstream.headers = first.headers;
    upstream.endpoint_id = first.endpoint_id;
  }

  if (auto n = child(node, "balancer")) {
    if (auto text = oneOf(*n, path + ".balancer",
                          {"p2c_ewma", "least_outstanding", "round_robin", "weighted"},
                          "must be one of p2c_ewma, least_outstanding, round_robin, weighted")) {
      upstream.balancer = *text;
    }
  }
  if (auto n = child(node, "health")) loadHealthCheck(*n, path + ".health", upstream.health);
  if (auto n = child(node, "outlier_detection")) {
    loadOutlierDetection(*n, path + ".outlier_detection", upstream.outlier_detection);
  }
  if (auto n = child(node, "max_outstanding")) {
    if (auto v = integer(*n, path + ".max_outstanding", 0, kMaxOutstanding,
                         "an integer from 0 (unbounded) to 1000000")) {
      upstream.max_outstanding = static_cast<size_t>(*v);
    }
  }
  if (auto n = child(node, "retry_on")) {
    if (auto v = failureClasses(*n, path + ".retry_on")) upstream.retry_on = *v;
  }
  readCount(node, "max_attempts", path, 1, kMaxAttempts, upstream.max_attempts);
  if (auto n = child(node, "ttft_timeout_ms")) {
    if (auto v = milliseconds(*n, path + ".ttft_timeout_ms", 0)) upstream.ttft_timeout = *v;
  }
  if (auto n = child(node, "retry_budget")) {
    loadRetryBudget(*n, path + ".retry_budget", upstream.retry_budget);
  }
  if (auto n = child(node, "fallback_on")) {
    if (auto v = failureClasses(*n, path + ".fallback_on")) upstream.fallback_on = *v;
  }
  if (auto n = child(node, "fallbacks")) {
    loadFallbacks(*n, path + ".fallbacks", upstream.fallback_on, upstream.fallbacks);
  }
  if (auto n = child(node, "load_signal")) {
    loadLoadSignal(*n, path + ".load_signal", upstream.load_signal);
  }
}

void Loader::loadEndpoints(const YAML::Node& node, const std::string& path,
                           UpstreamConfig& upstream) {
  if (!node.IsSequence()) {
    error(path, "expected a sequence of endpoints");
    return;
  }
  if (node.size() == 0 || node.size() > kMaxEndpoints) {
    error(path, "must list 1 to 256 endpoints");
    return;
  }
  std::map<std::string, size_t> index_by_url;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    const YAML::Node item = node[i];
    if (!item.IsMap()) {
      error(item_path, "expected a mapping with url (and weight, headers)");
      continue;
    }
    checkSection(item, item_path, {"url", "base_url", "weight", "headers"});
    UpstreamConfig address;
    // `url` (the contract's name) or `base_url` (as on a single-endpoint upstream).
    const auto url = child(item, "url");
    const auto base_url = child(item, "base_url");
    if (url && base_url) {
      error(item_path + ".base_url", "give either url or base_url, not both");
    } else if (url || base_url) {
      const std::string url_path = item_path + (url ? ".url" : ".base_url");
      if (auto text = stringValue(url ? *url : *base_url, url_path)) {
        parseBaseUrl(*text, url_path, address);
      }
    } else {
      error(item_path + ".url", "is required");
    }
    if (address.scheme.empty()) continue;
    UpstreamEndpoint endpoint = endpointOf(address);
    readCount(item, "weight", item_path, 1, kMaxWeight, endpoint.weight);
    endpoint.headers = upstream.headers;
    if (auto n = child(item, "headers")) {
      std::vector<std::pair<std::string, std::string>> own;
      loadUpstreamHeaders(*n, item_path + ".headers", own);
      for (auto& [name, value] : own) {
        auto same = std::find_if(endpoint.headers.begin(), endpoint.headers.end(),
                                 [&](const auto& h) { return h.first == name; });
        if (same != endpoint.headers.end()) {
          same->second = std::move(value);
        } else {
          endpoint.headers.emplace_back(name, std::move(value));
        }
      }
    }
    // Two entries with one URL and the same headers would be one endpoint counted twice.
    std::string key = endpoint.base_url;
    for (const auto& [name, value] : endpoint.headers) key += '\0' + name + '\0' + value;
    const auto [it, inserted] = index_by_url.emplace(key, i);
    if (!inserted) {
      error(item_path, "repeats " + indexPath(path, it->second) +
                           " (same url and headers); give it a larger weight instead");
      continue;
    }
    upstream.endpoints.push_back(std::move(endpoint));
  }
}

void Loader::loadHealthCheck(const YAML::Node& node, const std::string& path,
                             UpstreamHealthCheck& health) {
  health.enabled = true;
  if (!checkSection(node, path,
                    {"path", "interval_ms", "timeout_ms", "unhealthy_after", "healthy_after"})) {
    return;
  }
  if (auto n = child(node, "path")) {
    if (auto text = stringValue(*n, path + ".path")) {
      const bool clean = std::none_of(text->begin(), text->end(), [](unsigned char c) {
        return c <= ' ' || c == 0x7f || c == '#';
      });
      if (text->empty() || text->front() != '/' || !clean) {
        error(path + ".path", "must start with / and hold no spaces, control characters or #");
      } else {
        health.path = *text;
      }
    }
  }
  if (auto n = child(node, "interval_ms")) {
    if (auto v = milliseconds(*n, path + ".interval_ms", 100)) health.interval = *v;
  }
  if (auto n = child(node, "timeout_ms")) {
    if (auto v = milliseconds(*n, path + ".timeout_ms", 1)) health.timeout = *v;
  }
  readCount(node, "unhealthy_after", path, 1, kMaxConsecutive, health.unhealthy_after);
  readCount(node, "healthy_after", path, 1, kMaxConsecutive, health.healthy_after);
}

void Loader::loadOutlierDetection(const YAML::Node& node, const std::string& path,
                                  OutlierDetection& outlier) {
  if (!checkSection(node, path,
                    {"consecutive_connect_failures", "consecutive_5xx", "base_ejection_ms",
                     "max_ejection_ms", "max_ejected_percent"})) {
    return;
  }
  readCount(node, "consecutive_connect_failures", path, 0, kMaxConsecutive,
            outlier.consecutive_connect_failures);
  readCount(node, "consecutive_5xx", path, 0, kMaxConsecutive, outlier.consecutive_5xx);
  if (auto n = child(node, "base_ejection_ms")) {
    if (auto v = milliseconds(*n, path + ".base_ejection_ms", 1)) outlier.base_ejection = *v;
  }
  if (auto n = child(node, "max_ejection_ms")) {
    if (auto v = milliseconds(*n, path + ".max_ejection_ms", 1)) outlier.max_ejection = *v;
  }
  if (outlier.max_ejection < outlier.base_ejection) {
    error(path + ".max_ejection_ms", "must not be below base_ejection_ms");
  }
  readCount(node, "max_ejected_percent", path, 0, 100, outlier.max_ejected_percent);
}

void Loader::loadRetryBudget(const YAML::Node& node, const std::string& path,
                             RetryBudgetConfig& budget) {
  if (!checkSection(node, path, {"ratio", "min_per_second", "window_ms"})) return;
  if (auto n = child(node, "ratio")) {
    static constexpr std::string_view kExpected =
        "a decimal from 0 to 1 with at most 6 decimal places";
    if (auto text = scalar(*n, path + ".ratio", kExpected)) {
      if (auto ppm = parseRatioPpm(*text)) {
        budget.ratio_ppm = *ppm;
      } else {
        error(path + ".ratio", "expected " + std::string(kExpected));
      }
    }
  }
  readCount(node, "min_per_second", path, 0, kMaxPerSecond, budget.min_per_second);
  if (auto n = child(node, "window_ms")) {
    if (auto v = integer(*n, path + ".window_ms", 1'000, 600'000,
                         "an integer of milliseconds from 1000 to 600000")) {
      budget.window = std::chrono::milliseconds(static_cast<int64_t>(*v));
    }
  }
}

void Loader::loadFallbacks(const YAML::Node& node, const std::string& path, uint8_t default_on,
                           std::vector<UpstreamFallback>& fallbacks) {
  if (!node.IsSequence()) {
    error(path, "expected a sequence of upstream names or {upstream, model, on} mappings");
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    const YAML::Node item = node[i];
    UpstreamFallback fallback;
    fallback.on = default_on;
    bool valid = true;
    if (item.IsScalar()) {
      if (auto text = nonEmptyString(item, item_path)) fallback.upstream = *text;
    } else if (item.IsMap()) {
      checkSection(item, item_path, {"upstream", "model", "on"});
      if (auto n = child(item, "upstream")) {
        if (auto text = nonEmptyString(*n, item_path + ".upstream")) fallback.upstream = *text;
      } else {
        error(item_path + ".upstream", "is required");
      }
      if (auto n = child(item, "model")) {
        if (auto text = nonEmptyString(*n, item_path + ".model")) fallback.model = *text;
      }
      if (auto n = child(item, "on")) {
        const auto classes = failureClasses(*n, item_path + ".on");
        valid = classes.has_value();
        if (classes) fallback.on = *classes;
      }
    } else {
      error(item_path, "expected an upstream name or a mapping {upstream, model, on}");
    }
    if (valid && !fallback.upstream.empty()) fallbacks.push_back(std::move(fallback));
  }
}

std::optional<uint8_t> Loader::failureClasses(const YAML::Node& node, const std::string& path) {
  static constexpr std::string_view kExpected =
      "expected a sequence of connect_error, 429, 5xx, ttft_timeout";
  if (!node.IsSequence()) {
    error(path, std::string(kExpected));
    return std::nullopt;
  }
  uint8_t classes = 0;
  bool ok = true;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = indexPath(path, i);
    auto text = oneOf(node[i], item_path, {"connect_error", "429", "5xx", "ttft_timeout"},
                      "must be one of connect_error, 429, 5xx, ttft_timeout");
    if (!text) {
      ok = false;
      continue;
    }
    const uint8_t bit = *text == "connect_error" ? kFailConnectError
                        : *text == "429"         ? kFail429
                        : *text == "5xx"         ? kFail5xx
                                                 : kFailTtftTimeout;
    if (classes & bit) {
      error(item_path, "listed twice");
      ok = false;
    }
    classes |= bit;
  }
  if (!ok) return std::nullopt;
  return classes;
}

void Loader::loadLoadSignal(const YAML::Node& node, const std::string& path,
                            LoadSignalConfig& signal) {
  signal.enabled = true;
  if (!checkSection(node, path, {"kind", "path", "interval_ms"})) return;
  if (auto n = child(node, "kind")) {
    if (auto text = oneOf(*n, path + ".kind", {"vllm"}, "must be vllm")) signal.kind = *text;
  }
  if (auto n = child(node, "path")) {
    if (auto text = stringValue(*n, path + ".path")) {
      if (text->empty() || text->front() != '/') {
        error(path + ".path", "must start with /");
      } else {
        signal.path = *text;
      }
    }
  }
  if (auto n = child(node, "interval_ms")) {
    if (auto v = milliseconds(*n, path + ".interval_ms", 100)) signal.interval = *v;
  }
}

void Loader::readCount(const YAML::Node& section, std::string_view key, const std::string& path,
                       uint64_t min, uint64_t max, uint32_t& out) {
  const auto n = child(section, key);
  if (!n) return;
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (auto v = integer(*n, keyPath(path, key), min, max, expected)) {
    out = static_cast<uint32_t>(*v);
  }
}

std::optional<std::chrono::milliseconds> Loader::milliseconds(const YAML::Node& node,
                                                              const std::string& path,
                                                              uint64_t min) {
  const std::string expected =
      "an integer of milliseconds from " + std::to_string(min) + " to 86400000";
  auto v = integer(node, path, min, kMaxTimeoutMs, expected);
  if (!v) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(*v));
}

void Loader::checkFallbacks(const std::vector<UpstreamConfig>& upstreams) {
  std::map<std::string, size_t> index_by_name;
  for (size_t i = 0; i < upstreams.size(); ++i) index_by_name.emplace(upstreams[i].name, i);

  // targets[i]: the upstream index of each valid fallback of upstream i.
  std::vector<std::vector<std::pair<size_t, size_t>>> targets(upstreams.size());
  for (size_t i = 0; i < upstreams.size(); ++i) {
    const UpstreamConfig& from = upstreams[i];
    for (size_t j = 0; j < from.fallbacks.size(); ++j) {
      const UpstreamFallback& fallback = from.fallbacks[j];
      const std::string path = indexPath(indexPath("upstreams", i) + ".fallbacks", j);
      const auto it = index_by_name.find(fallback.upstream);
      if (it == index_by_name.end()) {
        error(path, "names no upstream (" + quoteKey(fallback.upstream) + ")");
        continue;
      }
      const UpstreamConfig& to = upstreams[it->second];
      if (it->second == i) {
        error(path, "an upstream cannot fall back to itself (its endpoints already retry)");
        continue;
      }
      if (to.dialect != from.dialect) {
        error(path, "falls back to " + quoteKey(to.name) + " of dialect " + to.dialect + ", not " +
                        from.dialect +
                        ": a fallback must speak the client's dialect (use the provider's "
                        "OpenAI-compatible endpoint as an openai upstream)");
        continue;
      }
      if (!fallback.model.empty() &&
          std::none_of(to.models.begin(), to.models.end(), [&](const std::string& glob) {
            return meter::globMatch(glob, fallback.model);
          })) {
        error(path + ".model", "model " + quoteKey(fallback.model) + " is not served by " +
                                   quoteKey(to.name) + " (no glob of its models matches)");
        continue;
      }
      // The gateway rewrites the body's "model" for such a fallback; these APIs name the model
      // in the request path, which it does not rewrite.
      if (!fallback.model.empty() && (to.dialect == "gemini" || to.dialect == "bedrock")) {
        error(path + ".model",
              "a fallback to another model needs a dialect that names the model "
              "in the body (openai, anthropic, ollama), not " +
                  to.dialect + "; use the provider's OpenAI-compatible endpoint");
        continue;
      }
      targets[i].emplace_back(it->second, j);
    }
  }

  // Depth-first search; an edge to an upstream still on the stack closes a cycle.
  enum class Mark { kNew, kOnStack, kDone };
  std::vector<Mark> marks(upstreams.size(), Mark::kNew);
  std::vector<size_t> stack;
  std::function<void(size_t)> visit = [&](size_t u) {
    marks[u] = Mark::kOnStack;
    stack.push_back(u);
    for (const auto& [v, j] : targets[u]) {
      if (marks[v] == Mark::kOnStack) {
        std::string cycle;
        const auto start = std::find(stack.begin(), stack.end(), v);
        for (auto s = start; s != stack.end(); ++s) cycle += upstreams[*s].name + " -> ";
        cycle += upstreams[v].name;
        error(indexPath(indexPath("upstreams", u) + ".fallbacks", j),
              "fallbacks form a cycle: " + cycle);
      } else if (marks[v] == Mark::kNew) {
        visit(v);
      }
    }
    stack.pop_back();
    marks[u] = Mark::kDone;
  };
  for (size_t i = 0; i < upstreams.size(); ++i) {
    if (marks[i] == Mark::kNew) visit(i);
  }
}

}  // namespace tollgate::config
