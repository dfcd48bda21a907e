#include "gateway/proxy/call_attempts.h"

#include <algorithm>

namespace tollgate::gateway {

std::string_view failureName(AttemptResult result) {
  switch (result) {
    case AttemptResult::kConnectError:
      return "connect_error";
    case AttemptResult::kTtftTimeout:
      return "ttft_timeout";
    case AttemptResult::k429:
      return "429";
    case AttemptResult::k5xx:
      return "5xx";
    case AttemptResult::kSuccess:
      break;
  }
  return "";
}

AttemptNext attemptNextOf(FailoverPlanner::Kind kind) {
  switch (kind) {
    case FailoverPlanner::Kind::kNextEndpoint:
      return AttemptNext::kNextEndpoint;
    case FailoverPlanner::Kind::kFallback:
      return AttemptNext::kFallback;
    case FailoverPlanner::Kind::kGiveUp:
      break;
  }
  return AttemptNext::kNone;
}

AttemptResult attemptResultOf(const CallRecord& call) {
  if (call.error_type == "upstream_connection_error" || call.error_type == "upstream_timeout" ||
      call.error_type == "upstream_protocol_error") {
    return AttemptResult::kConnectError;
  }
  if (call.error_type == "upstream_ttft_timeout") return AttemptResult::kTtftTimeout;
  if (call.status >= 500) return AttemptResult::k5xx;
  if (call.status == 429) return AttemptResult::k429;
  return AttemptResult::kSuccess;
}

void beginAttempt(CallRecord& call, const config::UpstreamConfig& endpoint_view, size_t endpoint,
                  SpanId span_id, std::chrono::steady_clock::time_point now) {
  AttemptRecord& a = call.attempts.emplace_back();
  a.span_id = span_id;
  a.upstream = &endpoint_view;
  a.endpoint = static_cast<uint32_t>(endpoint);
  a.number = static_cast<uint32_t>(call.attempts.size());
  a.start = now;
}

namespace {

// Closes the open attempt; null when there is none.
AttemptRecord* close(CallRecord& call, AttemptResult result, int status,
                     std::chrono::steady_clock::time_point now) {
  if (call.attempts.empty() || call.attempts.back().ended) return nullptr;
  AttemptRecord& a = call.attempts.back();
  a.ended = true;
  a.end = std::max(now, a.start);
  a.status = status;
  a.failure = failureName(result);
  return &a;
}

// The upstream's own status in the call, or 0 when the failure left the gateway's there.
int upstreamStatus(const CallRecord& call, AttemptResult result) {
  const bool no_answer =
      result == AttemptResult::kConnectError || result == AttemptResult::kTtftTimeout;
  return no_answer ? 0 : call.status;
}

}  // namespace

void endFinalAttempt(CallRecord& call, std::chrono::steady_clock::time_point end) {
  const AttemptResult result = attemptResultOf(call);
  close(call, result, upstreamStatus(call, result), end);
}

void endAttemptByOutcome(CallRecord& call, EndpointSet& endpoints, AttemptNext next,
                         std::chrono::steady_clock::time_point now) {
  const AttemptResult result = attemptResultOf(call);
  endAttempt(call, endpoints, result, upstreamStatus(call, result), next, now);
}

void endAttempt(CallRecord& call, EndpointSet& endpoints, AttemptResult result, int status,
                AttemptNext next, std::chrono::steady_clock::time_point now) {
  AttemptRecord* closed = close(call, result, status, now);
  if (closed == nullptr) return;
  AttemptRecord& a = *closed;
  switch (next) {
    case AttemptNext::kNone:
      break;
    case AttemptNext::kNextEndpoint:
      a.next = "retry";
      endpoints.onMovedOn(a.endpoint, false);
      break;
    case AttemptNext::kFallback:
      a.next = "fallback";
      endpoints.onMovedOn(a.endpoint, true);
      break;
    case AttemptNext::kSameEndpoint:
      a.next = "resend";
      break;
  }
}

}  // namespace tollgate::gateway
