#include "gateway/telemetry/otlp_exporter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>

#include "gateway/core/thread_name.h"
#include "meter/json_escape.h"

namespace tollgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ---- SpanRing ----

SpanRing::SpanRing(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {}

bool SpanRing::tryPush(std::vector<SpanData>& spans) {
  const uint64_t tail = tail_.load(std::memory_order_relaxed);
  const uint64_t head = head_.load(std::memory_order_acquire);
  if (tail - head + spans.size() > slots_.size()) return false;
  for (size_t i = 0; i < spans.size(); ++i) {
    slots_[(tail + i) % slots_.size()] = std::move(spans[i]);
  }
  tail_.store(tail + spans.size(), std::memory_order_release);
  return true;
}

size_t SpanRing::popInto(std::vector<SpanData>& out, size_t max) {
  const uint64_t head = head_.load(std::memory_order_relaxed);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(tail - head, max));
  for (size_t i = 0; i < n; ++i) out.push_back(std::move(slots_[(head + i) % slots_.size()]));
  head_.store(head + n, std::memory_order_release);
  return n;
}

size_t SpanRing::size() const {
  const uint64_t head = head_.load(std::memory_order_acquire);
  const uint64_t tail = tail_.load(std::memory_order_acquire);
  return static_cast<size_t>(tail - head);
}

// ---- encoding ----

namespace {

void appendKeyValue(const SpanAttribute& attr, std::string& out);

void appendAnyValue(const AttributeValue& value, std::string& out) {
  out += '{';
  if (const auto* s = std::get_if<std::string>(&value)) {
    out += "\"stringValue\":";
    meter::appendJsonString(*s, out);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    fmt::format_to(std::back_inserter(out), "\"intValue\":\"{}\"", *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    fmt::format_to(std::back_inserter(out), "\"doubleValue\":{}", *d);
  } else if (const auto* b = std::get_if<bool>(&value)) {
    out += *b ? "\"boolValue\":true" : "\"boolValue\":false";
  } else if (const auto* a = std::get_if<std::vector<std::string>>(&value)) {
    out += "\"arrayValue\":{\"values\":[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i > 0) out += ',';
      out += "{\"stringValue\":";
      meter::appendJsonString((*a)[i], out);
      out += '}';
    }
    out += "]}";
  }
  out += '}';
}

void appendKeyValue(const SpanAttribute& attr, std::string& out) {
  out += "{\"key\":";
  meter::appendJsonString(attr.key, out);
  out += ",\"value\":";
  appendAnyValue(attr.value, out);
  out += '}';
}

void appendAttributes(const std::vector<SpanAttribute>& attrs, std::string& out) {
  out += "\"attributes\":[";
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i > 0) out += ',';
    appendKeyValue(attrs[i], out);
  }
  out += ']';
}

void appendSpan(const SpanData& span, std::string& out) {
  out += "{\"traceId\":\"";
  out += span.trace_id;
  out += "\",\"spanId\":\"";
  out += span.span_id;
  out += '"';
  if (!span.parent_span_id.empty()) {
    out += ",\"parentSpanId\":\"";
    out += span.parent_span_id;
    out += '"';
  }
  if (!span.trace_state.empty()) {
    out += ",\"traceState\":";
    meter::appendJsonString(span.trace_state, out);
  }
  out += ",\"name\":";
  meter::appendJsonString(span.name, out);
  fmt::format_to(std::back_inserter(out),
                 ",\"kind\":{},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",", span.kind,
                 span.start_unix_ns, span.end_unix_ns);
  appendAttributes(span.attributes, out);
  fmt::format_to(std::back_inserter(out), ",\"status\":{{\"code\":{}", span.status_code);
  if (!span.status_message.empty()) {
    out += ",\"message\":";
    meter::appendJsonString(span.status_message, out);
  }
  out += "}}";
}

}  // namespace

std::string encodeOtlpTraces(const OtlpResource& resource, std::string_view scope_version,
                             const std::vector<SpanData>& spans) {
  std::string out;
  out.reserve(512 + spans.size() * 1200);
  out += "{\"resourceSpans\":[{\"resource\":{";
  appendAttributes({{"service.name", resource.service_name},
                    {"service.version", resource.service_version},
                    {"service.instance.id", resource.service_instance_id}},
                   out);
  out += "},\"scopeSpans\":[{\"scope\":{\"name\":\"tollgate\",\"version\":";
  meter::appendJsonString(scope_version, out);
  out += "},\"spans\":[";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) out += ',';
    appendSpan(spans[i], out);
  }
  out += "]}]}]}";
  return out;
}

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  uint64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return std::chrono::milliseconds(std::min<uint64_t>(seconds, 3600) * 1000);
}

// ---- exporter ----

struct OtlpExporter::Connection {
  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool open = false;

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    open = false;
  }

  // Runs the io_context until the one pending operation has completed.
  void runOne() {
    ioc.restart();
    ioc.run();
  }
};

OtlpExporter::OtlpExporter(const config::TelemetryConfig& config, OtlpResource resource,
                           std::vector<SpanRing*> rings)
    : config_(config),
      resource_(std::move(resource)),
      rings_(std::move(rings)),
      connection_(std::make_unique<Connection>()) {}

OtlpExporter::~OtlpExporter() {
  if (thread_.joinable()) stop(std::chrono::milliseconds(0));
}

void OtlpExporter::start() {
  thread_ = std::thread([this] {
    nameThisThread("tg-otlp");
    run();
  });
}

void OtlpExporter::notify() {
  // No lock: a worker must never wait on the exporter. A wake-up lost to the race with the
  // exporter going to sleep costs at most one export_interval.
  if (!wake_.exchange(true, std::memory_order_acq_rel)) cv_.notify_one();
}

uint64_t OtlpExporter::stop(std::chrono::milliseconds timeout) {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      deadline_ = std::chrono::steady_clock::now() + timeout;
    }
    cv_.notify_all();
    thread_.join();
  }
  uint64_t left = 0;
  for (const auto* ring : rings_) left += ring->size();
  return left;
}

ExporterStats OtlpExporter::stats() const {
  ExporterStats s;
  s.exported_spans = exported_.load(std::memory_order_relaxed);
  s.failed_spans = failed_.load(std::memory_order_relaxed);
  s.requests = requests_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  for (const auto* ring : rings_) s.queued_spans += ring->size();
  return s;
}

size_t OtlpExporter::collect(std::vector<SpanData>& batch) {
  batch.clear();
  for (auto* ring : rings_) {
    if (batch.size() >= config_.batch_size) break;
    ring->popInto(batch, config_.batch_size - batch.size());
  }
  return batch.size();
}

void OtlpExporter::run() {
  std::vector<SpanData> batch;
  batch.reserve(config_.batch_size);
  bool stopping = false;
  while (!stopping) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, config_.export_interval,
                   [&] { return stopping_ || wake_.load(std::memory_order_acquire); });
      wake_.store(false, std::memory_order_release);
      stopping = stopping_;
    }
    // Drain: full batches go out back to back; a partial one ends the round unless stopping.
    while (collect(batch) > 0) {
      const size_t n = batch.size();
      const std::string body = encodeOtlpTraces(resource_, TOLLGATE_VERSION, batch);
      if (sendWithRetries(body)) {
        exported_.fetch_add(n, std::memory_order_relaxed);
      } else {
        failed_.fetch_add(n, std::memory_order_relaxed);
      }
      if (stopping && std::chrono::steady_clock::now() >= deadline_) break;
      if (!stopping && n < config_.batch_size) break;
    }
  }
  connection_->close();
}

bool OtlpExporter::backoff(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  auto until = std::chrono::steady_clock::now() + delay;
  if (stopping_ && until > deadline_) until = deadline_;
  cv_.wait_until(lock, until,
                 [&] { return stopping_ && std::chrono::steady_clock::now() >= deadline_; });
  return !(stopping_ && std::chrono::steady_clock::now() >= deadline_);
}

bool OtlpExporter::sendWithRetries(const std::string& body) {
  auto delay = kInitialBackoff;
  for (int attempt = 1;; ++attempt) {
    std::optional<std::chrono::milliseconds> retry_after;
    const int status = post(body, retry_after);
    if (status >= 200 && status < 300) return true;
    const bool retryable =
        status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
    if (!retryable || attempt >= kMaxAttempts) {
      if (auto log = spdlog::get("gateway")) {
        log->warn("otlp export failed endpoint={} status={} attempts={}", config_.otlp_endpoint,
                  status, attempt);
      }
      return false;
    }
    if (!backoff(retry_after.value_or(delay))) return false;
    retries_.fetch_add(1, std::memory_order_relaxed);
    delay = std::min(delay * 2, kMaxBackoff);
  }
}

int OtlpExporter::post(const std::string& body,
                       std::optional<std::chrono::milliseconds>& retry_after) {
  auto& c = *connection_;
  auto timeout = kRequestTimeout;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline_ - std::chrono::steady_clock::now());
      timeout = std::clamp(left, std::chrono::milliseconds(1), kRequestTimeout);
    }
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  beast::error_code ec;
  if (!c.open) {
    tcp::resolver resolver(c.ioc);
    const auto endpoints =
        resolver.resolve(config_.otlp_host, std::to_string(config_.otlp_port), ec);
    if (ec) return 0;
    c.stream.expires_after(timeout);
    c.stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    c.runOne();
    if (ec) {
      c.close();
      return 0;
    }
    c.open = true;
  }
  http::request<http::string_body> req{http::verb::post, config_.otlp_path, 11};
  const bool v6 = config_.otlp_host.find(':') != std::string::npos;
  req.set(http::field::host, (v6 ? "[" + config_.otlp_host + "]" : config_.otlp_host) + ":" +
                                 std::to_string(config_.otlp_port));
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "tollgate/" TOLLGATE_VERSION);
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  c.stream.expires_after(timeout);
  http::async_write(c.stream, req, [&](beast::error_code e, size_t) { ec = e; });
  c.runOne();
  http::response<http::string_body> res;
  if (!ec) {
    http::async_read(c.stream, c.buffer, res, [&](beast::error_code e, size_t) { ec = e; });
    c.runOne();
  }
  if (ec) {
    c.close();
    return 0;
  }
  if (!res.keep_alive()) c.close();
  if (auto it = res.find(http::field::retry_after); it != res.end()) {
    retry_after = parseRetryAfter(it->value());
  }
  return static_cast<int>(res.result_int());
}

}  // namespace tollgate::gateway
