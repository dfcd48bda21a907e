#include "gateway/proxy/attempt_accounting.h"

#include <string>
#include <utility>

#include "gateway/proxy/call_accounting.h"

namespace tollgate::gateway {
namespace {

std::string_view endpointHost(const CallRecord& call) {
  if (call.upstream == nullptr) return {};
  return call.upstream->host_header;
}

}  // namespace

void stampAttempt(meter::CostEvent& event, uint32_t attempt, bool final_attempt,
                  uint32_t endpoint_index, std::string_view endpoint_host) {
  if (attempt >= 2) {
    event.id.push_back('-');
    event.id.append(std::to_string(attempt));
  }
  event.attempt = attempt;
  event.final_attempt = final_attempt;
  event.upstream_endpoint_index = endpoint_index;
  event.upstream_endpoint_host = endpoint_host;
}

meter::CostEvent accountAttempt(CallRecord& call, std::string_view event_source,
                                CallRecord::Clock::time_point end, const meter::Coster& coster) {
  meter::Attribution kept = call.attribution;
  const std::string error_type = call.error_type;
  meter::CostEvent event = accountCall(call, event_source, end, coster);
  call.attribution = std::move(kept);
  call.error_type = error_type;
  ++call.attempts_booked;
  stampAttempt(event, call.attempts_booked, false, call.endpoint_index, endpointHost(call));
  return event;
}

void stampLastAttempt(const CallRecord& call, meter::CostEvent& event) {
  if (call.attempts_booked == 0) return;
  stampAttempt(event, call.attempts_booked + 1, true, call.endpoint_index, endpointHost(call));
}

void resetAttempt(CallRecord& call) {
  call.status = 0;
  call.outcome = meter::Outcome::kOk;
  call.error_type.clear();
  call.result = {};
  call.metered = false;
  call.has_first_byte = false;
  call.first_byte = {};
  call.discarding = false;
}

}  // namespace tollgate::gateway
