#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "gateway/core/call_record.h"
#include "gateway/telemetry/access_log.h"
#include "gateway/telemetry/prometheus.h"
#include "gateway/telemetry/tracer.h"

namespace tollgate::gateway {

// What SREs see, built from the startup configuration: detailed Prometheus metrics (always),
// OTLP tracing (when telemetry.otlp_endpoint is set) and the access log (when enabled). The
// server registers observersFor(i) in worker i before the workers start.
class Observability {
 public:
  // Throws std::runtime_error when the access log file cannot be opened.
  Observability(const config::Config& config, size_t workers, const std::string& instance_id,
                const std::string& version);
  ~Observability();

  std::vector<CallObserver*> observersFor(size_t worker);
  void start();
  // After the workers stopped: exports queued spans within `timeout`, flushes the access log.
  void stop(std::chrono::milliseconds timeout);
  // Appends the families owned here (call counters, GenAI histograms, tracing and access log
  // health) in the Prometheus text format.
  void renderPrometheus(PrometheusWriter& out) const;

 private:
  PrometheusMetrics metrics_;
  std::unique_ptr<Tracer> tracer_;
  std::unique_ptr<AccessLog> access_log_;
};

}  // namespace tollgate::gateway
