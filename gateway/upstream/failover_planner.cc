#include "gateway/upstream/failover_planner.h"

namespace tollgate::gateway {

FailoverPlanner::FailoverPlanner(std::span<const config::UpstreamConfig> upstreams, size_t first,
                                 std::span<const FallbackStep> chain, RetryBudget& budget)
    : upstreams_(upstreams), first_(first), chain_(chain), budget_(budget) {}

size_t FailoverPlanner::currentUpstream() const { return step_ ? chain_[*step_].upstream : first_; }

FailoverPlanner::Decision FailoverPlanner::next(AttemptResult result, bool relayed,
                                                bool endpoint_left, Clock::time_point now) {
  const uint8_t failure = failureBit(result);
  if (failure == 0) return {Kind::kGiveUp, GiveUp::kSucceeded};
  if (relayed) return {Kind::kGiveUp, GiveUp::kRelayed};
  if (endpoint_left && (upstreams_[currentUpstream()].retry_on & failure) != 0) {
    return retry({Kind::kNextEndpoint}, now);
  }
  // The current step's own fallbacks first, then those after it (skipping whole subtrees).
  size_t j = step_ ? *step_ + 1 : 0;
  while (j < chain_.size()) {
    if ((chain_[j].on & failure) != 0) {
      Decision decision = retry({Kind::kFallback, GiveUp::kNone, &chain_[j]}, now);
      if (decision.kind == Kind::kFallback) step_ = j;
      return decision;
    }
    j = chain_[j].subtree_end;
  }
  return {Kind::kGiveUp, GiveUp::kNotRetryable};
}

FailoverPlanner::Decision FailoverPlanner::retry(Decision decision, Clock::time_point now) {
  if (attempts_ >= upstreams_[first_].max_attempts) return {Kind::kGiveUp, GiveUp::kMaxAttempts};
  if (!budget_.tryRetry(now)) return {Kind::kGiveUp, GiveUp::kBudget};
  ++attempts_;
  return decision;
}

}  // namespace tollgate::gateway
