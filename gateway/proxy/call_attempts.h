#pragma once

#include <chrono>
#include <cstddef>

#include "gateway/core/call_record.h"
#include "gateway/upstream/attempt_result.h"
#include "gateway/upstream/endpoint_set.h"
#include "gateway/upstream/failover_planner.h"

namespace tollgate::gateway {

// Where a call goes after an attempt ended.
enum class AttemptNext : uint8_t {
  kNone,          // nowhere: this attempt's answer (or error) is the client's
  kNextEndpoint,  // another endpoint of the same upstream
  kFallback,      // a fallback upstream
  kSameEndpoint,  // the same endpoint on a fresh connection (a pooled one had been closed)
};

// Where the planner's decision sends the call (kNone: it gives up).
AttemptNext attemptNextOf(FailoverPlanner::Kind kind);

// The two calls the attempt loop makes around each attempt, so every attempt shows as a span
// and its endpoint's retry and fallback counters move. `endpoint` is the index EndpointSet
// picked; call beginAttempt after EndpointSet::onStart and endAttempt once the outcome and the
// next step are known (before the next beginAttempt).
void beginAttempt(CallRecord& call, const config::UpstreamConfig& endpoint_view, size_t endpoint,
                  SpanId span_id, std::chrono::steady_clock::time_point now);
void endAttempt(CallRecord& call, EndpointSet& endpoints, AttemptResult result, int status,
                AttemptNext next, std::chrono::steady_clock::time_point now);

// endAttempt with the failure and status read from the call's outcome (attemptResultOf; no
// upstream status for a connect error or a TTFT timeout, whose status is the gateway's): for
// an attempt whose answer, reset or timeout the relay recorded in the call.
void endAttemptByOutcome(CallRecord& call, EndpointSet& endpoints, AttemptNext next,
                         std::chrono::steady_clock::time_point now);

// The attempt still open when the call is booked is its last: closed at `end` with what the
// call's own outcome says of it. Nothing when every attempt was closed.
void endFinalAttempt(CallRecord& call, std::chrono::steady_clock::time_point end);

// What the call's outcome says about the endpoint its last attempt went to: no answer at all
// (reset, timeout, a status the gateway cannot relay) is a connect failure, no head within
// ttft_timeout_ms a TTFT timeout, a 5xx a server error.
AttemptResult attemptResultOf(const CallRecord& call);

// The name of a failure as retry_on and fallbacks[].on spell it ("" for kSuccess).
std::string_view failureName(AttemptResult result);

}  // namespace tollgate::gateway
