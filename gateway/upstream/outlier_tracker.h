#pragma once

#include <chrono>
#include <cstdint>

#include "config/config.h"
#include "gateway/upstream/attempt_result.h"

namespace tollgate::gateway {

// Passive outlier detection for one endpoint from the outcomes of real calls (Envoy's
// consecutive-failure ejection): consecutive connect failures or 5xx answers past a threshold
// ask for an ejection; the n-th ejection lasts n x base_ejection (at most max_ejection). The
// multiplier returns to zero once the endpoint has served max_ejection without being ejected.
// Whether an asked-for ejection happens (the pool's max ejected share) is EndpointSet's call.
class OutlierTracker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit OutlierTracker(const config::OutlierDetection& config) : config_(config) {}

  // Returns true when this outcome crossed a threshold: the endpoint should be ejected.
  bool onOutcome(AttemptResult result, Clock::time_point now);

  void eject(Clock::time_point now);

  bool ejected(Clock::time_point now) const { return now < ejected_until_; }

  Clock::time_point ejectedUntil() const { return ejected_until_; }

  uint64_t ejections() const { return ejections_total_; }

  // After a reload: the counts and ejection of the endpoint, under the new settings.
  void carryOver(const OutlierTracker& old) {
    const config::OutlierDetection mine = config_;
    *this = old;
    config_ = mine;
  }

 private:
  config::OutlierDetection config_;
  uint32_t connect_failures_ = 0;
  uint32_t server_errors_ = 0;
  uint32_t multiplier_ = 0;
  uint64_t ejections_total_ = 0;
  Clock::time_point ejected_until_{};
};

}  // namespace tollgate::gateway
