// Loader: the upstreams: section (base URLs, models, injected headers, TLS).
#include <filesystem>
#include <fstream>

#include "config/loader.h"
#include "meter/glob.h"

namespace tollgate::config {

void Loader::loadUpstreams(const YAML::Node& node, std::vector<UpstreamConfig>& upstreams) {
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
                                  " (already used by " + indexPath("upstreams", it->second) + ")");
      }
    }
    upstreams.push_back(std::move(upstream));
  }
  checkFallbacks(upstreams);
}

void Loader::loadUpstream(const YAML::Node& node, const std::string& path,
                          UpstreamConfig& upstream) {
  if (!node.IsMap()) {
    error(path, "expected a mapping");
    return;
  }
  checkSection(node, path,
               {"name",
                "dialect",
                "base_url",
                "models",
                "headers",
                "tls",
                "max_idle_connections",
                "idle_keepalive_ms",
                "passthrough_auth",
                "endpoints",
                "balancer",
                "health",
                "outlier_detection",
                "max_outstanding",
                "retry_on",
                "max_attempts",
                "ttft_timeout_ms",
                "retry_budget",
                "fallbacks",
                "fallback_on",
                "load_signal",
                "gpu_pool",
                "aws",
                "deployments",
                "credentials_file"});

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
    if (auto text =
            oneOf(*n, path + ".dialect",
                  {"openai", "anthropic", "gemini", "ollama", "bedrock", "azure_openai"},
                  "must be one of openai, anthropic, gemini, ollama, bedrock, azure_openai")) {
      upstream.dialect = *text;
    }
  } else {
    error(path + ".dialect", "is required");
  }

  if (auto n = child(node, "base_url")) {
    const std::string url_path = path + ".base_url";
    if (auto text = stringValue(*n, url_path)) parseBaseUrl(*text, url_path, upstream);
  } else if (!child(node, "endpoints")) {
    error(path + ".base_url", "is required");
  }

  if (auto n = child(node, "models")) {
    loadModels(*n, path + ".models", upstream.models);
  } else {
    error(path + ".models", "is required");
  }

  if (auto n = child(node, "headers")) loadUpstreamHeaders(*n, path + ".headers", upstream.headers);
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
  if (auto n = child(node, "gpu_pool")) {
    if (auto text = nonEmptyString(*n, path + ".gpu_pool")) upstream.gpu_pool = *text;
  }
  // Bedrock is reached only with the gateway's own AWS signature, and nothing else is signed.
  if (auto n = child(node, "aws")) {
    if (upstream.dialect == "bedrock") {
      loadAws(*n, path + ".aws", upstream.aws);
    } else if (!upstream.dialect.empty()) {
      error(path + ".aws", "is for dialect: bedrock only");
    }
  } else if (upstream.dialect == "bedrock") {
    error(path + ".aws", "is required for dialect: bedrock (region and credentials)");
  }
  if (upstream.dialect == "bedrock" && upstream.passthrough_auth) {
    error(path + ".passthrough_auth", "cannot be used with dialect: bedrock (the gateway signs)");
  }
  if (auto n = child(node, "deployments")) {
    if (upstream.dialect == "azure_openai") {
      loadDeployments(*n, path + ".deployments", upstream.deployments);
    } else if (!upstream.dialect.empty()) {
      error(path + ".deployments", "is for dialect: azure_openai only");
    }
  }
  if (auto n = child(node, "credentials_file")) loadCredentialsFile(*n, path, upstream);
  loadUpstreamPool(node, path, upstream);
}

void Loader::loadDeployments(const YAML::Node& node, const std::string& path,
                             std::map<std::string, std::string, std::less<>>& deployments) {
  if (!checkDataMap(node, path, "a mapping of deployment name to model")) return;
  forEachEntry(node, path, false,
               [&](const std::string& key, const YAML::Node& value, const std::string& key_path) {
                 if (key.empty() || key.find('/') != std::string::npos) {
                   error(key_path, "a deployment name is non-empty and has no '/'");
                   return;
                 }
                 auto model = stringValue(value, key_path);
                 if (!model) return;
                 if (model->empty()) {
                   error(key_path, "must name a model");
                   return;
                 }
                 deployments.emplace(key, std::move(*model));
               });
}

void Loader::loadCredentialsFile(const YAML::Node& node, const std::string& path,
                                 UpstreamConfig& upstream) {
  const std::string key_path = path + ".credentials_file";
  auto text = stringValue(node, key_path);
  if (!text) return;
  if (upstream.dialect == "bedrock") {
    error(key_path, "cannot be used with dialect: bedrock (the gateway signs with aws:)");
    return;
  }
  if (upstream.passthrough_auth) {
    error(key_path, "cannot be used with passthrough_auth (the token replaces the client's)");
    return;
  }
  for (const auto& header : upstream.headers) {
    if (header.first == "authorization") {
      error(key_path, "cannot be used with an injected authorization header");
      return;
    }
  }
  // Read here so that --check-config and a start fail on it, not the first call.
  std::ifstream in(*text, std::ios::binary);
  std::error_code ec;
  std::string token;
  if (text->empty() || std::filesystem::is_directory(*text, ec) || !in || !(in >> token)) {
    error(key_path, "cannot read an access token from " + quoteKey(*text));
    return;
  }
  upstream.credentials_file = *text;
}

void Loader::parseBaseUrl(const std::string& url, const std::string& path,
                          UpstreamConfig& upstream) {
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
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
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

void Loader::loadModels(const YAML::Node& node, const std::string& path,
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

void Loader::loadUpstreamHeaders(const YAML::Node& node, const std::string& path,
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

void Loader::loadTls(const YAML::Node& node, const std::string& path, UpstreamTls& tls) {
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

void Loader::loadAws(const YAML::Node& node, const std::string& path, UpstreamAws& aws) {
  if (!checkSection(node, path,
                    {"region", "access_key_id", "secret_access_key", "session_token"})) {
    return;
  }
  // A region is part of the signature's scope and of no URL: a typo there fails every call
  // with 403, so its shape is checked at load.
  if (auto n = child(node, "region")) {
    if (auto text = stringValue(*n, path + ".region")) {
      const bool valid = !text->empty() && text->size() <= 32 &&
                         std::all_of(text->begin(), text->end(), [](unsigned char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                         });
      if (valid) {
        aws.region = *text;
      } else {
        error(path + ".region", "must be an AWS region name such as us-east-1");
      }
    }
  } else {
    error(path + ".region", "is required");
  }
  const auto secret = [&](std::string_view key, std::string& out, bool required) {
    const std::string key_path = path + "." + std::string(key);
    auto n = child(node, std::string(key));
    if (!n) {
      if (required) error(key_path, "is required (write it as ${ENV_VAR})");
      return;
    }
    auto text = stringValue(*n, key_path);
    if (!text) return;
    if (text->empty() || std::any_of(text->begin(), text->end(),
                                     [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
      error(key_path, "must be non-empty without spaces or control characters");
      return;
    }
    out = std::move(*text);
  };
  secret("access_key_id", aws.access_key_id, true);
  secret("secret_access_key", aws.secret_access_key, true);
  secret("session_token", aws.session_token, false);
}

}  // namespace tollgate::config
