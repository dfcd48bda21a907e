#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "meter/gpu_pool_concurrency.h"

namespace tollgate::gateway {

// This replica's calls in flight on each GPU pool, integrated over time, shared by all workers
// (docs/gpu-pools.md, "The live estimate"). Only pool calls take the lock, twice each (start,
// end); it survives reloads in RuntimeServices, so calls running across a reload stay counted.
class GpuPoolOccupancy {
 public:
  // A call starts on `pool` (monotonic nanoseconds): the mark to hand back to end().
  __int128 begin(std::string_view pool, int64_t now_ns) {
    std::lock_guard lock(mutex_);
    return poolOf(pool).begin(now_ns);
  }

  // The call ends: its occupancy in call-nanoseconds (its duration when it ran alone).
  __int128 end(std::string_view pool, int64_t now_ns, __int128 mark) {
    std::lock_guard lock(mutex_);
    return poolOf(pool).end(now_ns, mark);
  }

 private:
  meter::GpuPoolConcurrency& poolOf(std::string_view pool) {
    auto it = pools_.find(pool);
    if (it == pools_.end())
      it = pools_.emplace(std::string(pool), meter::GpuPoolConcurrency{}).first;
    return it->second;
  }

  std::mutex mutex_;
  std::map<std::string, meter::GpuPoolConcurrency, std::less<>> pools_;
};

}  // namespace tollgate::gateway
