#pragma once

#include <cstdint>

namespace tollgate::gateway {

// An endpoint's state under active health checks: unhealthy after `unhealthy_after` failed
// checks in a row, healthy again after `healthy_after` passed ones. Starts healthy, so a pool
// serves before its first round of checks has finished.
class HealthTracker {
 public:
  HealthTracker(uint32_t unhealthy_after, uint32_t healthy_after)
      : unhealthy_after_(unhealthy_after), healthy_after_(healthy_after) {}

  // Returns true when the check changed the state.
  bool onCheck(bool passed) {
    if (passed) {
      failures_ = 0;
      if (!healthy_ && ++passes_ >= healthy_after_) {
        healthy_ = true;
        passes_ = 0;
        return true;
      }
      return false;
    }
    passes_ = 0;
    if (healthy_ && ++failures_ >= unhealthy_after_) {
      healthy_ = false;
      failures_ = 0;
      return true;
    }
    return false;
  }

  bool healthy() const { return healthy_; }

  // After a reload: the state the endpoint had, under the new thresholds.
  void carryOver(const HealthTracker& old) { healthy_ = old.healthy_; }

 private:
  uint32_t unhealthy_after_;
  uint32_t healthy_after_;
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
  bool healthy_ = true;
};

}  // namespace tollgate::gateway
