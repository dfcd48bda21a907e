#include "gateway/telemetry/tracer.h"

#include <charconv>

namespace tollgate::gateway {

std::string_view genAiProviderName(std::string_view dialect) {
  if (dialect == "gemini") return "gcp.gemini";
  if (dialect == "bedrock") return "aws.bedrock";
  return dialect;
}

namespace {

int64_t unixNanosAt(const CallRecord& call, const meter::CostEvent& event,
                    CallRecord::Clock::time_point at) {
  return event.start_unix_ns +
         std::chrono::duration_cast<std::chrono::nanoseconds>(at - call.start).count();
}

void addAttribution(const meter::CostEvent& event, std::vector<SpanAttribute>& attrs) {
  const auto& a = event.attribution;
  attrs.push_back({"tollgate.team", a.team});
  if (!a.project.empty()) attrs.push_back({"tollgate.project", a.project});
  if (!a.cost_center.empty()) attrs.push_back({"tollgate.cost_center", a.cost_center});
  if (!a.workload_type.empty()) attrs.push_back({"tollgate.workload_type", a.workload_type});
  if (!a.environment.empty()) attrs.push_back({"tollgate.environment", a.environment});
  attrs.push_back({"tollgate.allocated", a.allocated});
}

void addCost(const meter::CostEvent& event, std::vector<SpanAttribute>& attrs) {
  attrs.push_back({"tollgate.priced", event.priced});
  // A decimal string: the exact amount the cost event carries (a double would round it).
  if (event.priced) attrs.push_back({"tollgate.cost_usd", event.cost.total.toDecimalString()});
}

}  // namespace

void buildCallSpans(const CallRecord& call, const meter::CostEvent& event,
                    std::vector<SpanData>& out) {
  const std::string& operation = call.info.operation;
  const std::string& model = call.info.model;
  std::string name = operation.empty() ? std::string("POST ") + event.endpoint
                                       : (model.empty() ? operation : operation + " " + model);
  const bool failed = !call.error_type.empty();

  SpanData server;
  server.trace_id = call.trace_id;
  server.span_id = call.span_id;
  server.parent_span_id = call.parent_span_id;
  server.trace_state = call.tracestate;
  server.name = name;
  server.kind = SpanData::kKindServer;
  server.start_unix_ns = event.start_unix_ns;
  server.end_unix_ns = event.end_unix_ns;
  auto& sa = server.attributes;
  sa.reserve(24);
  if (!operation.empty()) sa.push_back({"gen_ai.operation.name", operation});
  if (!model.empty()) sa.push_back({"gen_ai.request.model", model});
  sa.push_back({"gen_ai.request.stream", call.info.stream});
  sa.push_back({"http.request.method", std::string("POST")});
  sa.push_back({"url.path", event.endpoint});
  sa.push_back({"http.response.status_code", int64_t{call.status}});
  sa.push_back({"tollgate.request_id", event.request_id});
  sa.push_back({"tollgate.outcome", std::string(meter::toString(event.outcome))});
  sa.push_back({"tollgate.overhead_us", event.overhead_us});
  addAttribution(event, sa);
  addCost(event, sa);
  if (failed) sa.push_back({"error.type", call.error_type});
  // HTTP semantic conventions: a server span is an error only for 5xx (a 4xx is the client's).
  if (call.status >= 500) server.status_code = SpanData::kStatusError;
  out.push_back(std::move(server));

  if (call.upstream == nullptr || call.upstream_start == CallRecord::Clock::time_point{}) return;

  SpanData client;
  client.trace_id = call.trace_id;
  client.span_id = call.upstream_span_id;
  client.parent_span_id = call.span_id;
  client.trace_state = call.tracestate;
  client.name = std::move(name);
  client.kind = SpanData::kKindClient;
  client.start_unix_ns = unixNanosAt(call, event, call.upstream_start);
  const auto end =
      call.upstream_end >= call.upstream_start ? call.upstream_end : call.upstream_start;
  client.end_unix_ns = unixNanosAt(call, event, end);
  auto& ca = client.attributes;
  ca.reserve(32);
  ca.push_back({"gen_ai.operation.name", operation});
  ca.push_back({"gen_ai.provider.name", std::string(genAiProviderName(call.upstream->dialect))});
  ca.push_back({"gen_ai.request.model", model});
  ca.push_back({"gen_ai.request.stream", call.info.stream});
  if (call.metered) {
    const auto& r = call.result;
    if (!r.response_model.empty()) ca.push_back({"gen_ai.response.model", r.response_model});
    if (!r.response_id.empty()) ca.push_back({"gen_ai.response.id", r.response_id});
    if (!r.finish_reasons.empty()) {
      ca.push_back({"gen_ai.response.finish_reasons", r.finish_reasons});
    }
    const auto& u = event.usage;
    ca.push_back({"gen_ai.usage.input_tokens", u.input_tokens});
    ca.push_back({"gen_ai.usage.output_tokens", u.output_tokens});
    ca.push_back({"gen_ai.usage.cache_read.input_tokens", u.cache_read_tokens});
    ca.push_back({"gen_ai.usage.cache_creation.input_tokens", u.cache_write_tokens});
    ca.push_back({"gen_ai.usage.reasoning.output_tokens", u.reasoning_tokens});
    ca.push_back({"tollgate.usage_source", std::string(meter::toString(event.usage_source))});
  }
  ca.push_back({"server.address", call.upstream->host});
  ca.push_back({"server.port", int64_t{call.upstream->port}});
  ca.push_back({"tollgate.upstream", call.upstream->name});
  if (call.has_first_byte) ca.push_back({"tollgate.ttft_ms", event.ttft_ms});
  addAttribution(event, ca);
  addCost(event, ca);
  if (failed) {
    ca.push_back({"error.type", call.error_type});
    client.status_code = SpanData::kStatusError;
    client.status_message = call.error_type;
  }
  out.push_back(std::move(client));

  // One child per attempt: which endpoint took it, how it ended and where the call went next.
  for (const AttemptRecord& a : call.attempts) {
    SpanData span;
    span.trace_id = call.trace_id;
    span.span_id = a.span_id;
    span.parent_span_id = call.upstream_span_id;
    span.trace_state = call.tracestate;
    span.name = "upstream attempt";
    span.kind = SpanData::kKindInternal;
    span.start_unix_ns = unixNanosAt(call, event, a.start);
    span.end_unix_ns = unixNanosAt(call, event, a.ended && a.end >= a.start ? a.end : a.start);
    auto& aa = span.attributes;
    aa.reserve(9);
    aa.push_back({"tollgate.attempt", int64_t{a.number}});
    aa.push_back({"tollgate.upstream", a.upstream->name});
    aa.push_back({"tollgate.endpoint", int64_t{a.endpoint}});
    aa.push_back({"server.address", a.upstream->host});
    aa.push_back({"server.port", int64_t{a.upstream->port}});
    if (a.status != 0) aa.push_back({"http.response.status_code", int64_t{a.status}});
    if (!a.next.empty()) aa.push_back({"tollgate.attempt.next", std::string(a.next)});
    if (!a.failure.empty()) {
      aa.push_back({"error.type", std::string(a.failure)});
      span.status_code = SpanData::kStatusError;
      span.status_message = std::string(a.failure);
    }
    out.push_back(std::move(span));
  }
}

class Tracer::WorkerTracer : public CallObserver {
 public:
  WorkerTracer(size_t ring_capacity, size_t batch_size)
      : ring_(ring_capacity), batch_size_(batch_size) {}

  void onCallFinished(const CallRecord& call, const meter::CostEvent& event) override {
    if (!call.sampled) return;
    sampled_.fetch_add(1, std::memory_order_relaxed);
    scratch_.clear();
    buildCallSpans(call, event, scratch_);
    const size_t n = scratch_.size();
    if (!ring_.tryPush(scratch_)) {
      dropped_.fetch_add(n, std::memory_order_relaxed);
      return;
    }
    if (exporter_ != nullptr && ring_.size() >= batch_size_) exporter_->notify();
  }

  SpanRing ring_;
  size_t batch_size_;
  OtlpExporter* exporter_ = nullptr;
  std::vector<SpanData> scratch_;
  std::atomic<uint64_t> sampled_{0};
  std::atomic<uint64_t> dropped_{0};
};

Tracer::Tracer(const config::TelemetryConfig& config, OtlpResource resource, size_t workers) {
  // queue_size bounds the whole process; each worker gets its share (a call needs 2 slots and
  // one per upstream attempt; a call with more spans than a share holds is dropped, counted).
  const size_t share = std::max<size_t>(2, (config.queue_size + workers - 1) / workers);
  std::vector<SpanRing*> rings;
  for (size_t i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<WorkerTracer>(share, config.batch_size));
    rings.push_back(&workers_.back()->ring_);
  }
  exporter_ = std::make_unique<OtlpExporter>(config, std::move(resource), std::move(rings));
  for (auto& w : workers_) w->exporter_ = exporter_.get();
}

Tracer::~Tracer() = default;

CallObserver* Tracer::observer(size_t worker) { return workers_.at(worker).get(); }

void Tracer::start() { exporter_->start(); }

uint64_t Tracer::stop(std::chrono::milliseconds timeout) { return exporter_->stop(timeout); }

TracerStats Tracer::stats() const {
  TracerStats s;
  for (const auto& w : workers_) {
    s.sampled_calls += w->sampled_.load(std::memory_order_relaxed);
    s.dropped_spans += w->dropped_.load(std::memory_order_relaxed);
  }
  s.exporter = exporter_->stats();
  return s;
}

}  // namespace tollgate::gateway
