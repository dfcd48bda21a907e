#include "gateway/proxy/attempt_failover.h"

#include "gateway/upstream/retry_after.h"

namespace tollgate::gateway {

AttemptFailover::AttemptFailover(FailoverPlanner& planner, UpstreamPools& pools)
    : planner_(planner), pools_(pools) {}

void AttemptFailover::begin(size_t endpoint) {
  endpoint_ = endpoint;
  moving_on_ = false;
  failure_ = AttemptResult::kSuccess;
  decision_ = {};
}

bool AttemptFailover::moveOn(AttemptResult result, Clock::time_point now) {
  failure_ = result;
  tried_.push_back(endpoint_);
  const size_t endpoints = pools_.pool(planner_.currentUpstream()).views.size();
  const bool endpoint_left = tried_.size() < endpoints;
  decision_ = planner_.next(result, false, endpoint_left, now);
  moving_on_ = decision_.kind != FailoverPlanner::Kind::kGiveUp;
  return moving_on_;
}

void AttemptFailover::enterNext() {
  if (decision_.kind == FailoverPlanner::Kind::kFallback) tried_.clear();
}

void AttemptFailover::onAnswerHead(int status, std::string_view retry_after, Clock::time_point now,
                                   std::chrono::system_clock::time_point wall) {
  if ((status != 429 && status != 503) || retry_after.empty()) return;
  const auto wait = parseRetryAfter(retry_after, wall);
  if (!wait || wait->count() <= 0) return;
  pools_.pool(planner_.currentUpstream()).endpoints.coolDown(endpoint_, now + *wait);
}

AttemptResult classifyAnswer(int status) {
  if (status == 429) return AttemptResult::k429;
  if (status >= 500 && status <= 599) return AttemptResult::k5xx;
  return AttemptResult::kSuccess;
}

}  // namespace tollgate::gateway
