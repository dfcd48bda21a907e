#include "gateway/upstream/outlier_tracker.h"

#include <algorithm>

namespace tollgate::gateway {

bool OutlierTracker::onOutcome(AttemptResult result, Clock::time_point now) {
  if (multiplier_ > 0 && !ejected(now) && now - ejected_until_ >= config_.max_ejection) {
    multiplier_ = 0;
  }
  switch (result) {
    case AttemptResult::kConnectError:
      server_errors_ = 0;
      ++connect_failures_;
      return config_.consecutive_connect_failures > 0 &&
             connect_failures_ >= config_.consecutive_connect_failures;
    case AttemptResult::k5xx:
      connect_failures_ = 0;
      ++server_errors_;
      return config_.consecutive_5xx > 0 && server_errors_ >= config_.consecutive_5xx;
    case AttemptResult::kSuccess:
      connect_failures_ = 0;
      server_errors_ = 0;
      return false;
    case AttemptResult::k429:
    case AttemptResult::kTtftTimeout:
      // A quota answer or a slow first token is no sign of a dead endpoint: Retry-After and the
      // latency estimate deal with them.
      return false;
  }
  return false;
}

void OutlierTracker::eject(Clock::time_point now) {
  ++multiplier_;
  ++ejections_total_;
  connect_failures_ = 0;
  server_errors_ = 0;
  const auto length =
      std::min<Clock::duration>(config_.base_ejection * multiplier_, config_.max_ejection);
  ejected_until_ = now + length;
}

}  // namespace tollgate::gateway
