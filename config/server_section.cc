// Loader: the server: section (listen addresses, timeouts, limits).
#include "config/loader.h"

namespace tollgate::config {

std::optional<ListenAddress> Loader::listenAddress(const YAML::Node& node,
                                                   const std::string& path) {
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

void Loader::loadServer(const YAML::Node& node, ServerConfig& server) {
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

void Loader::loadTimeouts(const YAML::Node& node, Timeouts& timeouts) {
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
           "upstream_response_ms", "upstream_idle_ms", "upstream_total_ms", "shutdown_drain_ms"})) {
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

void Loader::loadLimits(const YAML::Node& node, Limits& limits) {
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

}  // namespace tollgate::config
