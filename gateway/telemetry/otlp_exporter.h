#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"

namespace tollgate::gateway {

// One OTLP attribute value: string, int64, double, bool or an array of strings.
using AttributeValue = std::variant<std::string, int64_t, double, bool, std::vector<std::string>>;

struct SpanAttribute {
  std::string key;
  AttributeValue value;
};

// One finished span, ready to be encoded. Ids are lowercase hex (OTLP/JSON wants hex, not the
// base64 of the protobuf JSON mapping).
struct SpanData {
  static constexpr int kKindInternal = 1;
  static constexpr int kKindServer = 2;
  static constexpr int kKindClient = 3;
  static constexpr int kStatusUnset = 0;
  static constexpr int kStatusError = 2;

  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  // empty for a root span
  std::string trace_state;
  std::string name;
  int kind = kKindServer;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  int status_code = kStatusUnset;
  std::string status_message;
  std::vector<SpanAttribute> attributes;
};

// A fixed-capacity single-producer single-consumer ring: one worker thread pushes, the exporter
// thread pops. Never blocks, never allocates on push (slots are reused; their strings keep
// their capacity).
class SpanRing {
 public:
  explicit SpanRing(size_t capacity);

  // Takes all of `spans` or none of them (a call's spans travel together).
  bool tryPush(std::vector<SpanData>& spans);
  // Moves up to `max` spans into `out`; returns how many.
  size_t popInto(std::vector<SpanData>& out, size_t max);
  size_t size() const;
  size_t capacity() const { return slots_.size(); }

 private:
  std::vector<SpanData> slots_;
  alignas(64) std::atomic<uint64_t> head_{0};  // next slot to pop (consumer)
  alignas(64) std::atomic<uint64_t> tail_{0};  // next slot to fill (producer)
};

// Resource attributes of every span this process exports.
struct OtlpResource {
  std::string service_name;
  std::string service_version;
  std::string service_instance_id;
};

// The OTLP/HTTP JSON body of ExportTraceServiceRequest (opentelemetry-proto's JSON encoding:
// lowerCamelCase keys, hex ids, integer enums, 64-bit integers as decimal strings).
std::string encodeOtlpTraces(const OtlpResource& resource, std::string_view scope_version,
                             const std::vector<SpanData>& spans);

// Seconds to wait from a Retry-After value (delta-seconds only; an HTTP date is not worth
// parsing for a collector): nullopt when absent or not a number.
std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value);

struct ExporterStats {
  uint64_t exported_spans = 0;  // accepted by the collector (2xx)
  uint64_t failed_spans = 0;    // given up on: a non-retryable answer or retries exhausted
  uint64_t requests = 0;        // POSTs sent, retries included
  uint64_t retries = 0;
  uint64_t queued_spans = 0;  // in the rings now
};

// Sends spans from the rings to {otlp_endpoint}/v1/traces on its own thread, in batches of at
// most batch_size, at least every export_interval while spans wait. A batch answered 429, 502,
// 503 or 504 (or whose connection failed) is retried with exponential backoff, honouring
// Retry-After, up to kMaxAttempts; then it is counted as failed. The HTTP client is a small
// blocking one: this thread does nothing else.
class OtlpExporter {
 public:
  static constexpr int kMaxAttempts = 5;
  static constexpr std::chrono::milliseconds kInitialBackoff{200};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};
  static constexpr std::chrono::milliseconds kRequestTimeout{5000};

  OtlpExporter(const config::TelemetryConfig& config, OtlpResource resource,
               std::vector<SpanRing*> rings);
  ~OtlpExporter();

  void start();
  // Wakes the thread early (a ring holds a full batch). Cheap; may be called from any thread.
  void notify();
  // Exports what is queued within `timeout`, then stops the thread. Returns the spans left.
  uint64_t stop(std::chrono::milliseconds timeout);
  ExporterStats stats() const;

 private:
  struct Connection;

  void run();
  size_t collect(std::vector<SpanData>& batch);
  // Sends one batch with retries; true when the collector accepted it.
  bool sendWithRetries(const std::string& body);
  // One POST: the HTTP status, or 0 when the connection failed. Sets retry_after when given.
  int post(const std::string& body, std::optional<std::chrono::milliseconds>& retry_after);
  // Waits `delay` unless stopping (and past the deadline); false when it should give up.
  bool backoff(std::chrono::milliseconds delay);

  config::TelemetryConfig config_;
  OtlpResource resource_;
  std::vector<SpanRing*> rings_;
  std::unique_ptr<Connection> connection_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> wake_{false};
  std::chrono::steady_clock::time_point deadline_{};
  std::atomic<uint64_t> exported_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> retries_{0};
};

}  // namespace tollgate::gateway
