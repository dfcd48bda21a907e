#include "gateway/events/interrupted_calls.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "meter/token_estimator.h"

namespace tollgate::gateway {

std::vector<OpenCallEntry> unclosedCalls(std::span<const OpenCallEntry> entries) {
  std::vector<OpenCallEntry> calls;
  std::unordered_map<std::string_view, size_t> index;  // views into `entries`
  std::vector<bool> closed;
  for (const auto& entry : entries) {
    auto it = index.find(entry.id);
    switch (entry.kind) {
      case OpenCallEntry::Kind::kOpen:
        if (it == index.end()) {
          index.emplace(entry.id, calls.size());
          calls.push_back(entry);
          closed.push_back(false);
        } else if (!closed[it->second] && entry.at_unix_ns >= calls[it->second].at_unix_ns) {
          // A compacted file repeats the open with its latest progress.
          calls[it->second] = entry;
        }
        break;
      case OpenCallEntry::Kind::kProgress:
        if (it != index.end() && !closed[it->second] &&
            entry.at_unix_ns >= calls[it->second].at_unix_ns) {
          auto& call = calls[it->second];
          call.at_unix_ns = entry.at_unix_ns;
          call.status = entry.status;
          call.model = entry.model;
          call.answer_service_tier = entry.answer_service_tier;
          call.ttft_ms = entry.ttft_ms;
          call.provider_so_far = entry.provider_so_far;
          call.input_known = entry.input_known;
          call.output_bytes = entry.output_bytes;
        }
        break;
      case OpenCallEntry::Kind::kClose:
        if (it == index.end()) {
          // Closed before its open was read (files read in another order): remember the close.
          index.emplace(entry.id, calls.size());
          calls.push_back(entry);
          closed.push_back(true);
        } else {
          closed[it->second] = true;
        }
        break;
    }
  }
  std::vector<OpenCallEntry> open;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!closed[i]) open.push_back(std::move(calls[i]));
  }
  return open;
}

meter::CostEvent interruptedEvent(const OpenCallEntry& call, const meter::Coster& coster) {
  meter::CostEvent event;
  event.id = call.id;
  event.source = call.source;
  event.request_id = call.request_id;
  event.trace_id = call.trace_id;
  event.attribution = call.attribution;
  event.upstream = call.upstream;
  event.provider = call.provider;
  event.operation = call.operation;
  event.endpoint = call.endpoint;
  event.model_requested = call.model_requested;
  event.model = call.model.empty() ? call.model_requested : call.model;
  event.stream = call.stream;
  event.status = call.status;
  event.outcome = meter::Outcome::kInterrupted;
  event.usage = meter::estimateUnfinishedUsage(call.provider_so_far, call.input_known,
                                               call.input_estimate, call.output_bytes);
  event.usage_source = meter::UsageSource::kEstimated;
  const std::string& variant =
      call.answer_service_tier.empty() ? call.request_service_tier : call.answer_service_tier;
  const meter::CostInput input{.model = event.model,
                               .model_requested = event.model_requested,
                               .variant = variant,
                               .started_unix_ns = call.start_unix_ns,
                               .ended_unix_ns = std::max(call.at_unix_ns, call.start_unix_ns),
                               .upstream = event.upstream};
  auto costed = coster.cost(input, event.usage);
  event.priced = costed.priced;
  event.price_ref = std::move(costed.price_ref);
  event.cost = costed.cost;
  event.usage_flags |= costed.usage_flags;
  event.start_unix_ns = call.start_unix_ns;
  event.end_unix_ns = std::max(call.at_unix_ns, call.start_unix_ns);
  event.ttft_ms = call.ttft_ms;
  return event;
}

}  // namespace tollgate::gateway
