#include "gateway/telemetry/observability.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace tollgate::gateway {

Observability::Observability(const config::Config& config, size_t workers,
                             const std::string& instance_id, const std::string& version)
    : metrics_(workers, config.metrics.max_label_values) {
  if (!config.telemetry.otlp_endpoint.empty()) {
    tracer_ = std::make_unique<Tracer>(
        config.telemetry, OtlpResource{config.telemetry.service_name, version, instance_id},
        workers);
  }
  if (config.access_log.enabled) access_log_ = std::make_unique<AccessLog>(config.access_log);
}

Observability::~Observability() = default;

std::vector<CallObserver*> Observability::observersFor(size_t worker) {
  std::vector<CallObserver*> out{metrics_.observer(worker)};
  if (tracer_) out.push_back(tracer_->observer(worker));
  if (access_log_) out.push_back(access_log_.get());
  return out;
}

void Observability::start() {
  if (tracer_) tracer_->start();
}

void Observability::stop(std::chrono::milliseconds timeout) {
  if (tracer_) {
    const uint64_t left = tracer_->stop(timeout);
    auto log = spdlog::get("gateway");
    if (left > 0 && log) log->warn("tracing stopped with {} spans unexported", left);
  }
  if (access_log_) access_log_->flush();
}

void Observability::renderPrometheus(PrometheusWriter& out) const {
  metrics_.render(out);
  if (tracer_) {
    const TracerStats s = tracer_->stats();
    out.counter("tollgate_trace_sampled_calls_total", "Calls recorded as spans.", s.sampled_calls);
    out.counter("tollgate_trace_spans_dropped_total",
                "Spans dropped because the export queue was full.", s.dropped_spans);
    out.counter("tollgate_trace_spans_exported_total", "Spans accepted by the OTLP endpoint.",
                s.exporter.exported_spans);
    out.counter("tollgate_trace_spans_failed_total",
                "Spans given up on (a non-retryable answer or retries exhausted).",
                s.exporter.failed_spans);
    out.counter("tollgate_trace_export_requests_total", "OTLP export requests sent.",
                s.exporter.requests);
    out.counter("tollgate_trace_export_retries_total", "OTLP export requests retried.",
                s.exporter.retries);
    out.gauge("tollgate_trace_queue_spans", "Spans waiting for export.",
              static_cast<int64_t>(s.exporter.queued_spans));
  }
  if (access_log_) {
    out.counter("tollgate_access_log_dropped_total",
                "Access log lines discarded because the log queue was full.",
                access_log_->dropped());
  }
}

}  // namespace tollgate::gateway
