#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "gateway/core/call_record.h"
#include "gateway/telemetry/otlp_exporter.h"

namespace tollgate::gateway {

// The gen_ai.provider.name of a dialect ("gemini" -> "gcp.gemini").
std::string_view genAiProviderName(std::string_view dialect);

// The spans of one finished call: a SERVER span for the client's hop (id call.span_id, parent
// the client's span) and, when an upstream was tried, a CLIENT span for it (id
// call.upstream_span_id, the parent-id the upstream received in traceparent). Appended to `out`.
void buildCallSpans(const CallRecord& call, const meter::CostEvent& event,
                    std::vector<SpanData>& out);

struct TracerStats {
  uint64_t sampled_calls = 0;
  uint64_t dropped_spans = 0;  // the ring was full: the exporter fell behind
  ExporterStats exporter;
};

// Turns finished calls into spans. One observer per worker, each with its own ring (worker
// produces, exporter thread consumes): recording never takes a lock and never waits.
class Tracer {
 public:
  Tracer(const config::TelemetryConfig& config, OtlpResource resource, size_t workers);
  ~Tracer();

  CallObserver* observer(size_t worker);
  void start();
  // Exports what is queued within `timeout`; returns the spans left unexported.
  uint64_t stop(std::chrono::milliseconds timeout);
  TracerStats stats() const;

 private:
  class WorkerTracer;

  std::vector<std::unique_ptr<WorkerTracer>> workers_;
  std::unique_ptr<OtlpExporter> exporter_;
};

}  // namespace tollgate::gateway
