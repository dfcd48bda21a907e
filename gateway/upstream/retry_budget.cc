#include "gateway/upstream/retry_budget.h"

#include <algorithm>

namespace tollgate::gateway {

RetryBudget::RetryBudget(const config::RetryBudgetConfig& config)
    : ratio_ppm_(config.ratio_ppm),
      reserve_ppm_(static_cast<uint64_t>(config.min_per_second) *
                   static_cast<uint64_t>(config.window.count()) * 1'000),
      slot_length_(
          std::max<Clock::duration>(config.window / kSlots, std::chrono::milliseconds(1))) {}

RetryBudget::Slot& RetryBudget::slotAt(Clock::time_point now) {
  const int64_t epoch = now.time_since_epoch() / slot_length_;
  Slot& slot = slots_[static_cast<size_t>(epoch) % kSlots];
  if (slot.epoch != epoch) slot = Slot{epoch, 0, 0};
  return slot;
}

void RetryBudget::onCall(Clock::time_point now) { ++slotAt(now).calls; }

bool RetryBudget::tryRetry(Clock::time_point now) {
  Slot& current = slotAt(now);
  const int64_t oldest = current.epoch - static_cast<int64_t>(kSlots) + 1;
  uint64_t calls = 0;
  uint64_t retries = 0;
  for (const Slot& slot : slots_) {
    if (slot.epoch < oldest || slot.epoch > current.epoch) continue;
    calls += slot.calls;
    retries += slot.retries;
  }
  if ((retries + 1) * 1'000'000 > calls * ratio_ppm_ + reserve_ppm_) return false;
  ++current.retries;
  return true;
}

}  // namespace tollgate::gateway
