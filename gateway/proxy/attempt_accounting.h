#pragma once

#include <cstdint>
#include <string_view>

#include "gateway/core/call_record.h"
#include "meter/cost_event.h"
#include "meter/coster.h"

namespace tollgate::gateway {

// Makes `event` attempt `attempt` (1-based) of a call of several (docs/upstreams.md, "Cost
// events per attempt"): from the second on its id is <request_id>-<n>, so a consumer that
// dedupes by id keeps every attempt; `final` marks the call's last event.
void stampAttempt(meter::CostEvent& event, uint32_t attempt, bool final_attempt,
                  uint32_t endpoint_index, std::string_view endpoint_host);

// The event of an attempt that another attempt follows, as accountCall builds a call's, but the
// call keeps its attribution for the attempts still to come. Counts the attempt as booked.
meter::CostEvent accountAttempt(CallRecord& call, std::string_view event_source,
                                CallRecord::Clock::time_point end, const meter::Coster& coster);

// The call's last event, after earlier attempts were booked: stamped as the final attempt.
// A call of one attempt is left as it is.
void stampLastAttempt(const CallRecord& call, meter::CostEvent& event);

// Forgets what the attempt just booked left in the call (its answer's status, usage, first
// byte), so the next attempt starts from the request alone.
void resetAttempt(CallRecord& call);

}  // namespace tollgate::gateway
