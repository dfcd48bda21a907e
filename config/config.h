#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "meter/price_book.h"

namespace tollgate::config {

// A parsed "host:port" listen address.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0"
  uint16_t port = 0;  // 0: the OS picks one (the gateway prints what it bound)
};

struct Timeouts {
  std::chrono::milliseconds client_header{10'000};  // whole request head must arrive in this
  std::chrono::milliseconds client_body{30'000};    // whole request body must arrive in this
  std::chrono::milliseconds client_idle{60'000};    // keep-alive connection idle between calls
  std::chrono::milliseconds upstream_connect{5'000};
  std::chrono::milliseconds upstream_response{60'000};  // request sent -> response head
  std::chrono::milliseconds upstream_idle{60'000};      // between two response body reads
  std::chrono::milliseconds shutdown_drain{10'000};     // in-flight calls on SIGTERM
};

struct Limits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 8 * 1024 * 1024;
};

struct ServerConfig {
  ListenAddress listen{"127.0.0.1", 8080};
  ListenAddress admin_listen{"127.0.0.1", 9901};
  unsigned workers = 0;  // 0 = one per core
  std::string instance_id;  // CloudEvents source: tollgate://<instance_id>; default: hostname
  Timeouts timeouts;
  Limits limits;
};

struct UpstreamTls {
  bool verify = true;        // certificate chain and host name
  std::string ca_file;       // extra CA bundle (PEM); empty: system default paths
  std::string server_name;   // SNI / verified host name; empty: the base_url host
};

struct UpstreamConfig {
  std::string name;
  std::string dialect;  // openai | anthropic | gemini | ollama
  std::string base_url;
  // Parsed from base_url:
  std::string scheme;  // http | https
  std::string host;  // IPv6 literals without brackets
  uint16_t port = 0;  // from base_url, else 80 (http) / 443 (https)
  std::string base_path;  // "" or "/prefix" (no trailing slash)
  std::vector<std::string> models;  // glob patterns
  std::vector<std::pair<std::string, std::string>> headers;  // injected, lower-case names
  UpstreamTls tls;
  size_t max_idle_connections = 64;  // per worker
};

struct FileSinkConfig {
  std::string path = "var/cost-events.jsonl";
  size_t queue_capacity = 65536;  // events
};

struct KafkaSinkConfig {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "llm.cost.v1";
  std::vector<std::pair<std::string, std::string>> properties;  // passed to librdkafka as is
};

struct EventsConfig {
  std::string sink = "file";  // file | kafka
  FileSinkConfig file;
  KafkaSinkConfig kafka;
};

struct AttributionHeaders {
  std::string team = "x-team";
  std::string project = "x-project";
  std::string cost_center = "x-cost-center";
  std::string workload_type = "x-workload-type";
  std::string environment = "x-environment";
  std::string tags = "x-tags";
};

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error | off
};

// The whole validated configuration. Immutable once loaded; shared as shared_ptr<const Config>.
struct Config {
  ServerConfig server;
  std::vector<UpstreamConfig> upstreams;
  std::vector<tollgate::meter::PriceEntry> prices;  // config order: first match wins
  std::string price_catalog_version = "config";
  EventsConfig events;
  AttributionHeaders attribution_headers;
  LoggingConfig logging;
  // Facts worth a warning at startup that do not make the config invalid, each
  // "<key path>: <what>" (e.g. an upstream model glob that no price covers).
  std::vector<std::string> warnings;
};

}  // namespace tollgate::config
