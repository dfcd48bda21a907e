#include "meter/gpu_pool_estimate.h"

#include <limits>

namespace tollgate::meter {
namespace {

constexpr __int128 kNanosPerHour = 3'600'000'000'000;
constexpr __int128 kMaxPico = std::numeric_limits<int64_t>::max();

}  // namespace

Money estimateGpuPoolCost(__int128 pool_hour_pico, int64_t duration_ns,
                          __int128 occupancy_call_ns) {
  if (duration_ns <= 0 || pool_hour_pico <= 0) return Money();
  // A duration above a year or a rate above config's bound is nonsense: saturate early so that
  // no product below can overflow.
  if (duration_ns > 366 * 24 * kNanosPerHour || pool_hour_pico > (__int128{1} << 80)) {
    return Money::fromPico(std::numeric_limits<int64_t>::max());
  }
  const __int128 alone = pool_hour_pico * duration_ns / kNanosPerHour;
  if (alone >= kMaxPico) return Money::fromPico(std::numeric_limits<int64_t>::max());
  // Occupancy below the duration (a clock step) counts the call as alone.
  if (occupancy_call_ns <= duration_ns) return Money::fromPico(static_cast<int64_t>(alone));
  return Money::fromPico(static_cast<int64_t>(alone * duration_ns / occupancy_call_ns));
}

}  // namespace tollgate::meter
