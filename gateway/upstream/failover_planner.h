#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

#include "config/config.h"
#include "gateway/upstream/attempt_result.h"
#include "gateway/upstream/fallback_chain.h"
#include "gateway/upstream/retry_budget.h"

namespace tollgate::gateway {

// What a call does after an attempt failed: another endpoint of the same upstream, the next
// fallback, or nothing more. One per call; pure (the caller passes outcomes and the time).
//
// The rules: nothing is retried once a byte was relayed to the client (the client would get two
// answers spliced into one); a failure is retried on another endpoint when the current
// upstream's retry_on lists it and an endpoint is left, else it goes to the first fallback whose
// `on` lists it; every retry counts against the call's max_attempts and takes one from the
// first upstream's retry budget.
class FailoverPlanner {
 public:
  using Clock = std::chrono::steady_clock;

  enum class Kind { kNextEndpoint, kFallback, kGiveUp };
  enum class GiveUp {
    kNone,
    kSucceeded,     // the attempt did not fail
    kRelayed,       // bytes were relayed already
    kNotRetryable,  // no retry_on nor fallback lists this failure
    kMaxAttempts,
    kBudget,  // the retry budget is spent (a storm is being prevented)
  };
  struct Decision {
    Kind kind = Kind::kGiveUp;
    GiveUp reason = GiveUp::kNone;
    const FallbackStep* fallback = nullptr;  // kFallback: where to go
  };

  FailoverPlanner(std::span<const config::UpstreamConfig> upstreams, size_t first,
                  std::span<const FallbackStep> chain, RetryBudget& budget);

  // After the attempt on the current upstream ended with `result`. `endpoint_left`: the current
  // upstream still has an endpoint this call has not tried that may take a call now.
  Decision next(AttemptResult result, bool relayed, bool endpoint_left, Clock::time_point now);

  // Attempts made so far (the first is 1).
  uint32_t attempts() const { return attempts_; }

  // The upstream the call is on now (an index into the config's upstreams).
  size_t currentUpstream() const;

 private:
  Decision retry(Decision decision, Clock::time_point now);

  std::span<const config::UpstreamConfig> upstreams_;
  size_t first_;
  std::span<const FallbackStep> chain_;
  RetryBudget& budget_;
  std::optional<size_t> step_;  // the chain position; none: the call's own upstream
  uint32_t attempts_ = 1;
};

}  // namespace tollgate::gateway
