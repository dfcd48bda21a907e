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

#include "config/time_zone.h"
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

// One address of an upstream's pool: two API keys or two regions of a provider are two endpoints.
struct UpstreamEndpoint {
  std::string base_url;
  // Parsed from base_url, as UpstreamConfig's fields of the same names.
  std::string scheme;
  std::string host;
  uint16_t port = 0;
  std::string base_path;
  std::string host_header;
  uint32_t weight = 1;  // the weighted balancer's share; the others ignore it
  // The upstream's injected headers with this endpoint's own merged in (an endpoint's value
  // replaces the upstream's of the same name), lower-case names.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string endpoint_id;  // as UpstreamConfig::endpoint_id, over this endpoint's fields
};

// The failures an attempt can end with before anything was relayed, as a bit set: which of them
// move a call to the pool's next endpoint (retry_on) or to a fallback upstream (fallbacks[].on).
enum UpstreamFailure : uint8_t {
  kFailConnectError = 1,  // resolve, refused, connect timeout, TLS, reset before a response head
  kFail429 = 2,
  kFail5xx = 4,
  kFailTtftTimeout = 8,  // no first response byte within ttft_timeout_ms
};
inline constexpr uint8_t kAllUpstreamFailures =
    kFailConnectError | kFail429 | kFail5xx | kFailTtftTimeout;

// Active health checks: GET <endpoint base path><path> every interval; a 2xx passes.
struct UpstreamHealthCheck {
  bool enabled = false;  // true when the upstream has a health: section
  std::string path = "/health";
  std::chrono::milliseconds interval{5'000};
  std::chrono::milliseconds timeout{2'000};
  uint32_t unhealthy_after = 3;  // consecutive failed checks that mark an endpoint unhealthy
  uint32_t healthy_after = 2;    // consecutive passed checks that mark it healthy again
};

// Passive outlier ejection from the outcomes of real calls (Envoy's outlier detection).
struct OutlierDetection {
  uint32_t consecutive_connect_failures = 3;  // 0: never ejects for connect failures
  uint32_t consecutive_5xx = 5;               // 0: never ejects for 5xx answers
  // The n-th ejection of an endpoint lasts n x base_ejection, at most max_ejection.
  std::chrono::milliseconds base_ejection{10'000};
  std::chrono::milliseconds max_ejection{300'000};
  uint32_t max_ejected_percent = 50;  // never more of the pool ejected at once (at least one stays)
};

// Retries (to another endpoint or a fallback) are bounded to ratio x the calls of the last
// window plus min_per_second x the window's seconds (Finagle's RetryBudget).
struct RetryBudgetConfig {
  uint32_t ratio_ppm = 200'000;  // ratio in millionths: 0.2
  uint32_t min_per_second = 10;
  std::chrono::milliseconds window{10'000};
};

struct UpstreamFallback {
  std::string upstream;  // another upstream's name, same dialect
  std::string model;     // the model asked of it; empty: the client's model
  uint8_t on = kAllUpstreamFailures;
};

// A load signal scraped from each endpoint's inference server (vLLM's Prometheus /metrics).
struct LoadSignalConfig {
  bool enabled = false;  // true when the upstream has a load_signal: section
  std::string kind = "vllm";
  std::string path = "/metrics";
  std::chrono::milliseconds interval{1'000};
};

struct UpstreamTls {
  bool verify = true;       // certificate chain and host name
  std::string ca_file;      // extra CA bundle (PEM); empty: system default paths
  std::string server_name;  // SNI / verified host name; empty: the base_url host
};

// AWS credentials a `dialect: bedrock` upstream's requests are signed with (SigV4).
struct UpstreamAws {
  std::string region;  // "us-east-1": the SigV4 credential scope
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
};

struct UpstreamConfig {
  std::string name;
  std::string dialect;  // openai | anthropic | gemini | ollama | bedrock | azure_openai
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
  // The pool: never empty after loading (a plain base_url is one endpoint). The fields above
  // (base_url .. headers, endpoint_id) are those of endpoints[0].
  std::vector<UpstreamEndpoint> endpoints;
  std::string balancer = "p2c_ewma";  // p2c_ewma | least_outstanding | round_robin | weighted
  UpstreamHealthCheck health;
  OutlierDetection outlier_detection;
  size_t max_outstanding = 0;                 // per endpoint and worker; 0: unbounded
  uint8_t retry_on = kAllUpstreamFailures;    // failures that move a call to the next endpoint
  uint32_t max_attempts = 3;                  // per call, over endpoints and fallbacks
  std::chrono::milliseconds ttft_timeout{0};  // 0: off (upstream_response still applies)
  RetryBudgetConfig retry_budget;
  std::vector<UpstreamFallback> fallbacks;  // tried in order, followed transitively
  // The failures that go to a fallback listed by name alone (an entry's own `on` wins).
  uint8_t fallback_on = kAllUpstreamFailures;
  LoadSignalConfig load_signal;
  // The self-hosted GPU pool this upstream's calls run on (gpu_pools[].name); empty: none.
  std::string gpu_pool;
  // Set (region non-empty) exactly when dialect is bedrock: the gateway signs each request.
  UpstreamAws aws;
  // azure_openai only: deployment name -> the model its calls are priced as (a deployment not
  // listed is priced as its own name).
  std::map<std::string, std::string, std::less<>> deployments;
  // A file holding a bearer access token (Vertex AI), sent as Authorization: Bearer <token> and
  // re-read when the file changes; "" for none.
  std::string credentials_file;
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

// The open-call journal (docs/events.md, "Calls the gateway dies in"): a call running longer
// than `after` is recorded, with the output relayed so far refreshed every `refresh`, so that a
// gateway that dies during it books it at its next start (outcome interrupted).
struct OpenCallsConfig {
  bool enabled = true;
  std::chrono::milliseconds after{3000};
  std::chrono::milliseconds refresh{1000};
  bool fsync = false;  // fdatasync each journal write: survives a machine crash too
  std::string dir;     // empty: <spool.dir>/open-calls with Kafka, beside file.path otherwise
};

struct EventsConfig {
  // file | kafka | none. none turns metering and cost events off (calls are relayed and counted
  // in metrics, nothing is booked): it exists to measure what metering costs.
  std::string sink = "file";
  std::string durability = "spool";  // spool | memory (kafka sink only)
  FileSinkConfig file;
  KafkaSinkConfig kafka;
  SpoolConfig spool;
  OpenCallsConfig open_calls;
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

// Which calls a budget or rate limit covers: every non-empty field must equal the call's own
// label (key_id: the gateway key that made it). All empty ({}): every call.
struct SpendScope {
  std::string team;
  std::string project;
  std::string cost_center;
  std::string environment;
  std::string workload_type;
  std::string key_id;
};

// A spend budget over a calendar period (docs/budgets.md).
struct BudgetConfig {
  std::string name;
  SpendScope scope;
  std::string period = "month";  // day | week (starts Monday) | month
  std::string timezone;          // IANA name; empty: UTC
  std::shared_ptr<const TimeZone> time_zone = std::make_shared<const TimeZone>();  // parsed
  tollgate::meter::Money limit;                    // limit_usd, exact
  std::vector<uint32_t> alert_at = {50, 80, 100};  // percent of the limit, ascending
  std::string action = "block";                    // block | alert
  std::string streams = "cut";                     // cut | finish
  // A call whose worst case does not fit is forwarded with max_tokens lowered to what the
  // remaining budget buys, instead of being refused (while at least one output token fits).
  bool clamp_max_tokens = false;
};

// Token and request rate limits per minute; 0: that dimension is not limited.
struct RateLimitConfig {
  std::string name;
  SpendScope scope;
  uint64_t input_tokens_per_minute = 0;
  uint64_t output_tokens_per_minute = 0;
  uint64_t requests_per_minute = 0;
};

struct RedisStateConfig {
  std::string url = "redis://127.0.0.1:6379/0";
  std::string host = "127.0.0.1";  // parsed from url
  uint16_t port = 6379;
  unsigned db = 0;
  std::string on_unavailable = "closed";   // closed (refuse: 503) | open (admit, count locally)
  std::chrono::milliseconds timeout{200};  // one Redis round trip
  std::string key_prefix = "tollgate:";
};

// Where spend, holds and rate-limit windows live.
struct SpendStateConfig {
  std::string backend = "local";             // local | redis
  std::string file = "var/spend-state.tsv";  // local: spend persisted here across restarts
  RedisStateConfig redis;
  // Output tokens held for a call that names no max_tokens / max_output_tokens /
  // max_completion_tokens.
  uint64_t default_output_tokens = 4096;
  // A hold not settled in this time is released (a crashed replica's holds, a stuck call).
  std::chrono::milliseconds hold_ttl{600'000};
};

struct AlertWebhookConfig {
  std::string url;               // empty: no webhook
  std::string format = "slack";  // slack | cloudevents
  std::chrono::milliseconds timeout{5'000};
  uint32_t max_attempts = 6;  // with exponential backoff from 1 s
};

struct AlertsConfig {
  AlertWebhookConfig webhook;
  std::string kafka_topic = "llm.budget-alerts.v1";  // used when events.sink is kafka
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
  std::vector<BudgetConfig> budgets;
  std::vector<RateLimitConfig> rate_limits;
  SpendStateConfig spend_state;
  AlertsConfig alerts;
  // Facts worth a warning at startup that do not make the config invalid, each
  // "<key path>: <what>" (e.g. an upstream model glob that no price covers).
  std::vector<std::string> warnings;
};

}  // namespace tollgate::config
