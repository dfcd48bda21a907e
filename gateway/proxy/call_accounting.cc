#include "gateway/proxy/call_accounting.h"

#include <chrono>
#include <string>

#include "meter/gpu_pool_estimate.h"
#include "meter/text_moves.h"

namespace tollgate::gateway {
namespace {

using meter::copyText;
using meter::moveText;

using Clock = CallRecord::Clock;

int64_t unixNanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double millisBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

meter::CostEvent accountCall(CallRecord& call, std::string_view event_source, Clock::time_point end,
                             const meter::Coster& coster) {
  const auto end_wall = call.start_wall + (end - call.start);
  meter::CostEvent event;
  copyText(event.id, call.request_id.view());
  copyText(event.source, event_source);
  copyText(event.request_id, call.request_id.view());
  copyText(event.trace_id, call.trace_id.view());
  meter::moveAttribution(call.attribution, event.attribution);
  copyText(event.operation, call.info.operation);
  copyText(event.endpoint, call.endpoint);
  copyText(event.model_requested, call.info.model);
  event.stream = call.info.stream;
  event.status = call.status;
  event.outcome = call.outcome;
  copyText(event.limit, call.limit);
  event.max_tokens_clamped = call.max_tokens_clamped;
  if (call.upstream != nullptr) {
    copyText(event.upstream, call.upstream->name);
    copyText(event.provider, call.upstream->dialect);
  }
  // What this attempt asked for: a fallback's own model, else the client's.
  const std::string& asked = call.attempt_model.empty() ? call.info.model : call.attempt_model;
  copyText(event.model, call.metered && !call.result.response_model.empty()
                            ? call.result.response_model
                            : asked);
  if (call.metered) {
    event.usage = call.result.usage;
    event.usage_source = call.result.usage_source;
    event.usage_flags = call.result.usage_flags;
    if (call.error_type.empty() && call.result.upstream_error) {
      call.error_type = call.result.error_type.empty() ? "upstream_error" : call.result.error_type;
    }
  }
  if (call.error_type.empty() && call.status >= 400) call.error_type = std::to_string(call.status);
  event.start_unix_ns = unixNanos(call.start_wall);
  event.end_unix_ns = unixNanos(end_wall);
  if (call.upstream != nullptr) {
    // The variant the answer reports (Anthropic's usage.service_tier) wins over the request's.
    const std::string& variant = call.metered && !call.result.service_tier.empty()
                                     ? call.result.service_tier
                                     : call.info.service_tier;
    meter::CostInput input{event.model,       asked,         variant, event.start_unix_ns,
                           event.end_unix_ns, event.upstream};
    if (call.metered) {
      input.other_models = call.result.other_models;
      event.provider_cost = call.result.provider_cost;
    }
    auto costed = coster.cost(input, event.usage);
    event.usage_flags |= costed.usage_flags;
    event.priced = costed.priced;
    moveText(event.price_ref, costed.price_ref);
    event.cost = costed.cost;
    event.other_models = std::move(costed.other_models);
  }
  if (call.has_first_byte) event.ttft_ms = millisBetween(call.start, call.first_byte);
  auto total = end - call.start;
  if (call.upstream_start != Clock::time_point{} && call.upstream_end >= call.upstream_start) {
    total -= call.upstream_end - call.upstream_start;
  }
  event.overhead_us = std::chrono::duration_cast<std::chrono::microseconds>(total).count();
  if (!call.gpu_pool.empty()) {
    copyText(event.gpu_pool, call.gpu_pool);
    // The pool is busy from the first upstream attempt to the answer's end.
    const auto busy = call.upstream_end >= call.upstream_start
                          ? call.upstream_end - call.upstream_start
                          : Clock::duration::zero();
    event.gpu_cost_estimate = meter::estimateGpuPoolCost(
        call.gpu_pool_hour_pico, std::chrono::duration_cast<std::chrono::nanoseconds>(busy).count(),
        call.gpu_pool_occupancy_ns);
  }
  return event;
}

}  // namespace tollgate::gateway
