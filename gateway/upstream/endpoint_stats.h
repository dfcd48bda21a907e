#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tollgate::gateway {

// One worker's published view of one endpoint, for /metrics. Only that worker writes it
// (relaxed atomics, no lock on the call path); the admin thread reads every worker's at scrape.
// Shared by every config snapshot in which the endpoint keeps its identity, so calls finishing
// on an old snapshot after a reload still count down `outstanding` here, and counters never
// restart with a reload.
struct EndpointStats {
  using Clock = std::chrono::steady_clock;

  std::atomic<int64_t> outstanding{0};
  // The peak-EWMA latency estimate when last changed, and when (steady clock, ns): the scrape
  // decays it to its own time as the balancer would.
  std::atomic<double> latency_ns{0.0};
  std::atomic<int64_t> latency_stamp_ns{0};
  std::atomic<bool> published{false};  // a pool of this worker has carried the endpoint
  std::atomic<bool> healthy{true};     // the active checks' view
  std::atomic<int64_t> ejected_until_ns{0};
  std::atomic<uint64_t> ejections{0};
  std::atomic<uint64_t> retried{0};    // attempts that failed here and went to another endpoint
  std::atomic<uint64_t> fallbacks{0};  // attempts that failed here and went to a fallback

  static int64_t nanos(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  static void bump(std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace tollgate::gateway
