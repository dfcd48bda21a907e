#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>
#include <vector>

#include "gateway/upstream/attempt_result.h"
#include "gateway/upstream/failover_planner.h"
#include "gateway/upstream/upstream_pools.h"

namespace tollgate::gateway {

// A call's attempts as the relay sees them (docs/upstreams.md, "Retries and fallbacks"): which
// endpoints of the current upstream it tried, and whether a failed attempt moves the call on to
// another endpoint or a fallback. Asked only while nothing was relayed to the client (after a
// connect error, at a ttft timeout, on an answer's head or on a reset before it), so a retry
// after a relayed byte cannot be planned. No I/O, no clock: the caller hands in the times.
class AttemptFailover {
 public:
  using Clock = std::chrono::steady_clock;

  AttemptFailover(FailoverPlanner& planner, UpstreamPools& pools);

  // An attempt starts on `endpoint` of the current upstream.
  void begin(size_t endpoint);

  // The attempt failed with `result` before anything was relayed. True: the call moves on (the
  // planner took a retry from the budget and max_attempts); decision() says where to.
  bool moveOn(AttemptResult result, Clock::time_point now);
  bool movingOn() const { return moving_on_; }
  const FailoverPlanner::Decision& decision() const { return decision_; }
  // The last moveOn() was refused by max_attempts or the retry budget (not for want of a
  // retry_on or fallback listing the failure).
  bool denied() const {
    return decision_.reason == FailoverPlanner::GiveUp::kBudget ||
           decision_.reason == FailoverPlanner::GiveUp::kMaxAttempts;
  }
  // What the last moveOn() was told, for the endpoint's outlier state.
  AttemptResult failure() const { return failure_; }

  // After moving on: a fallback starts its own endpoints afresh.
  void enterNext();

  // An answer's head on the current endpoint: a 429 or 503 with Retry-After keeps calls away
  // from it until then (never a wait on this call).
  void onAnswerHead(int status, std::string_view retry_after, Clock::time_point now,
                    std::chrono::system_clock::time_point wall);

  const std::vector<size_t>& tried() const { return tried_; }
  size_t endpoint() const { return endpoint_; }

 private:
  FailoverPlanner& planner_;
  UpstreamPools& pools_;
  std::vector<size_t> tried_;
  size_t endpoint_ = 0;
  bool moving_on_ = false;
  AttemptResult failure_ = AttemptResult::kSuccess;
  FailoverPlanner::Decision decision_;
};

// What an answer's status says about the attempt: 429 and 5xx are failures another endpoint or
// a fallback may do better on; anything else (2xx, a 4xx that is the request's fault) is the
// answer.
AttemptResult classifyAnswer(int status);

}  // namespace tollgate::gateway
