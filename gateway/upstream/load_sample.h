#pragma once

#include <chrono>

namespace tollgate::gateway {

// What an endpoint's inference server says about its own load (vLLM's /metrics), as the
// balancer uses it. Stale samples are ignored: a scrape that stopped answering says nothing.
struct LoadSample {
  double requests_waiting = 0;  // queued in the server, not yet scheduled
  double kv_cache_usage = 0;    // 0..1
  std::chrono::steady_clock::time_point valid_until{};

  bool fresh(std::chrono::steady_clock::time_point now) const { return now < valid_until; }
};

}  // namespace tollgate::gateway
