#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "config/config.h"

namespace tollgate::gateway {

// Bounds the retries of one upstream (another endpoint, a fallback) to ratio x its calls over
// the last window plus min_per_second x the window's seconds (Finagle's RetryBudget): under a
// total outage each call makes at most about 1 + ratio attempts instead of max_attempts, so a
// failing provider is not hit by a retry storm. Counted in ten slots of window/10; one
// worker's thread only.
class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RetryBudget(const config::RetryBudgetConfig& config);

  // A call (its first attempt) started.
  void onCall(Clock::time_point now);

  // Takes one retry from the budget; false (and nothing taken) when it is spent.
  bool tryRetry(Clock::time_point now);

 private:
  static constexpr size_t kSlots = 10;
  struct Slot {
    int64_t epoch = -1;  // which window/10 interval the counts are for
    uint64_t calls = 0;
    uint64_t retries = 0;
  };

  Slot& slotAt(Clock::time_point now);

  uint64_t ratio_ppm_;
  // min_per_second x window in retries x 10^6 (the ratio's scale).
  uint64_t reserve_ppm_;
  Clock::duration slot_length_;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace tollgate::gateway
