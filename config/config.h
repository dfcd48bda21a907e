#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "meter/price_book.h"

namespace tollgate::config {

// A parsed "host:port" listen address.
struct ListenAddress {
  std::string host;   // "127.0.0.1", "::1", "0.0.0.0"
  uint16_t port = 0;  // 0: the OS picks one (the gateway prints what it bound)
};

struct Timeouts {
  std::chrono::milliseconds client_header{10'000};  // whole request head must arrive in this
  std::chrono::milliseconds client_body{30'000};    // whole request body must arrive in this
  std::chrono::milliseconds client_idle{60'000};    // keep-alive connection idle between calls
  std::chrono::milliseconds upstream_connect{5'000};
  std::chrono::milliseconds upstream_response{60'000};  // request sent -> response head
  std::chrono::milliseconds upstream_idle{60'000};      // between two response body reads
  std::chrono::milliseconds upstream_total{3'600'000};  // request sent -> response's last byte
  std::chrono::milliseconds shutdown_drain{10'000};     // in-flight calls on SIGTERM
};

struct Limits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 8 * 1024 * 1024;
  // Open client connections per worker; a connection accepted beyond it is closed at once.
  size_t max_connections_per_worker = 10'000;
};

struct ServerConfig {
  ListenAddress listen{"127.0.0.1", 8080};
  ListenAddress admin_listen{"127.0.0.1", 9901};
  unsigned workers = 0;     // 0 = one per core
  std::string instance_id;  // CloudEvents source: tollgate://<instance_id>; default: hostname
  Timeouts timeouts;
  Limits limits;
};

struct UpstreamTls {
  bool verify = true;       // certificate chain and host name
  std::string ca_file;      // extra CA bundle (PEM); empty: system default paths
  std::string server_name;  // SNI / verified host name; empty: the base_url host
};

struct UpstreamConfig {
  std::string name;
  std::string dialect;  // openai | anthropic | gemini | ollama
  std::string base_url;
  // Parsed from base_url:
  std::string scheme;               // http | https
  std::string host;                 // IPv6 literals without brackets
  uint16_t port = 0;                // from base_url, else 80 (http) / 443 (https)
  std::string base_path;            // "" or "/prefix" (no trailing slash)
  std::string host_header;          // the Host field value: "host[:port]", IPv6 in brackets
  std::vector<std::string> models;  // glob patterns
  std::vector<std::pair<std::string, std::string>> headers;  // injected, lower-case names
  UpstreamTls tls;
  size_t max_idle_connections = 64;  // per worker
  // An idle pooled connection is closed after this: below the keep-alive timeout of common
  // servers (uvicorn 5 s, Node 5 s, Go 90 s), so the gateway closes first and never writes a
  // call onto a connection the upstream is closing.
  std::chrono::milliseconds idle_keepalive{4'000};
  // Scheme, host, port, TLS settings and injected headers: pooled connections and TLS contexts
  // are keyed by it, so a reload that changes any of them never reuses an old connection.
  std::string endpoint_id;
  // Forward the client's own provider credential (Authorization, x-api-key, x-goog-api-key,
  // except the one holding the gateway key) instead of dropping it.
  bool passthrough_auth = false;
  // The self-hosted GPU pool this upstream's calls run on (gpu_pools[].name); empty: none.
  std::string gpu_pool;
};

// The endpoint identity of an upstream (see UpstreamConfig::endpoint_id).
std::string endpointIdentity(const UpstreamConfig& upstream);

struct FileSinkConfig {
  std::string path = "var/cost-events.jsonl";
  size_t queue_capacity = 65536;  // events
};

struct KafkaSinkConfig {
  std::string brokers = "127.0.0.1:9092";
  std::string topic = "llm.cost.v1";
  // The attribution field whose value is the message key (partitioning, per-key ordering):
  // team | project | cost_center | workload_type | environment | none.
  std::string key = "team";
  std::vector<std::pair<std::string, std::string>> properties;  // passed to librdkafka as is
  std::chrono::milliseconds flush_timeout{5'000};  // graceful stop: wait for acks this long
  size_t queue_capacity = 65536;                   // events between the workers and the sink thread
};

// The write-ahead log in front of Kafka (events.durability: spool).
struct SpoolConfig {
  std::string dir = "var/spool";
  uint64_t max_bytes = 1ull << 30;       // disk bound; at the bound new events are refused
  uint64_t segment_bytes = 64ull << 20;  // a segment is deleted once all its events are acked
  // How often the spool is fdatasync()ed; 0 = never (the kernel writes it back). A process crash
  // loses nothing either way; this bounds what a machine crash can lose, at a latency cost.
  std::chrono::milliseconds fsync_interval{0};
  // Appends copy into preallocated, mapped segments (false: one write(2) per append; for a
  // copy-on-write filesystem such as btrfs, where a preallocation does not reserve the blocks
  // of later writes and a full disk could end the process with SIGBUS).
  bool mmap = true;
};

struct EventsConfig {
  // file | kafka | none. none turns metering and cost events off (calls are relayed and counted
  // in metrics, nothing is booked): it exists to measure what metering costs.
  std::string sink = "file";
  std::string durability = "spool";  // spool | memory (kafka sink only)
  FileSinkConfig file;
  KafkaSinkConfig kafka;
  SpoolConfig spool;
};

struct AttributionHeaders {
  std::string team = "x-team";
  std::string project = "x-project";
  std::string cost_center = "x-cost-center";
  std::string workload_type = "x-workload-type";
  std::string environment = "x-environment";
  std::string tags = "x-tags";
};

// Attribution label values (team, project, keys' fixed values...): [A-Za-z0-9._:/-]{1,64}, so
// they are safe in events, metrics, logs and file names without escaping.
inline constexpr size_t kMaxLabelBytes = 64;
inline bool isValidLabelValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxLabelBytes) return false;
  for (const char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A gateway key, stored only as its SHA-256, and what it fixes about the calls made with it.
struct KeyConfig {
  std::string id;                     // names the key in events (key_id) and logs
  std::string sha256;                 // 64 lower-case hex digits of SHA-256(key)
  std::string team;                   // empty: the x-team header fills it
  std::string cost_center;            // empty: the header fills it
  std::vector<std::string> projects;  // allowed projects, the first is the default; empty: any
  std::string environment;            // empty: the header fills it
  std::vector<std::string> models;    // model globs the key may call; empty: any
};

struct TagLimits {
  size_t max_count = 16;
  size_t max_key_bytes = 64;
  size_t max_value_bytes = 128;
};

// What a call must carry to be attributed, and what happens when it does not.
struct AttributionPolicy {
  bool enforce = false;  // mode: enforce refuses calls missing a required label; warn books them
  std::vector<std::string> required = {"team"};  // of team, project, cost_center, ...
  TagLimits tags;
};

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error | off
};

// OpenTelemetry tracing (OTLP/HTTP JSON). Off while otlp_endpoint is empty.
struct TelemetryConfig {
  std::string otlp_endpoint;  // "http://host:port[/prefix]"; spans go to {endpoint}/v1/traces
  std::string otlp_host;      // parsed from otlp_endpoint (IPv6 without brackets)
  uint16_t otlp_port = 4318;
  std::string otlp_path = "/v1/traces";
  double sample_ratio = 1.0;  // for calls without a sampled parent decision (parent-based)
  std::string service_name = "tollgate";
  size_t queue_size = 8192;  // spans waiting for export; beyond it they are dropped, counted
  size_t batch_size = 512;   // spans per export request
  std::chrono::milliseconds export_interval{1000};  // a partial batch waits at most this
};

struct MetricsConfig {
  size_t max_label_values = 100;  // distinct values per label before new ones count as "other"
};

struct AccessLogConfig {
  bool enabled = false;
  std::string format = "json";  // json | kv
  std::string path = "-";       // "-": standard output
};

// A self-hosted GPU pool (docs/gpu-pools.md): reserved GPUs billed whether they compute or
// idle. The ledger shares the pool's cost among the calls that ran on it.
struct GpuPoolConfig {
  std::string name;
  uint32_t gpus = 0;
  tollgate::meter::Money gpu_hour;  // gpu_hour_usd, exact; the pool costs gpus x gpu_hour
  // tokens: a running call's share of an interval follows its weighted token rate;
  // time: every running call gets an equal share.
  std::string share = "tokens";
  uint32_t prefill_weight = 1;  // weights.prefill: per uncached input token
  uint32_t decode_weight = 1;   // weights.decode: per output token
  // separate: idle time is the pool's own line; proportional: spread over the calls by share.
  std::string idle = "separate";
  std::string compare_with;  // a managed model whose price the reports set beside the pool's
  // The pool's cost per hour in picodollars.
  __int128 hourPico() const { return static_cast<__int128>(gpus) * gpu_hour.pico(); }
};

// The whole validated configuration. Immutable once loaded; shared as shared_ptr<const Config>.
struct Config {
  ServerConfig server;
  std::vector<UpstreamConfig> upstreams;
  std::vector<tollgate::meter::PriceEntry> prices;  // config order: first match wins
  std::string price_catalog_version = "config";
  // The bundled catalog (config/prices.default.yaml) under the user's prices; empty with
  // price_defaults: false. Each entry's catalog is the bundled catalog's version.
  std::vector<tollgate::meter::PriceEntry> default_prices;
  EventsConfig events;
  AttributionHeaders attribution_headers;
  AttributionPolicy attribution_policy;
  std::vector<KeyConfig> keys;  // empty: open mode (no key needed)
  LoggingConfig logging;
  TelemetryConfig telemetry;
  MetricsConfig metrics;
  AccessLogConfig access_log;
  std::vector<GpuPoolConfig> gpu_pools;
  // Facts worth a warning at startup that do not make the config invalid, each
  // "<key path>: <what>" (e.g. an upstream model glob that no price covers).
  std::vector<std::string> warnings;
};

}  // namespace tollgate::config
