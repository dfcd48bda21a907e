#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/core/refusal_code.h"
#include "meter/cost_event.h"

namespace tollgate::gateway {

// One worker's counters. Only its own worker thread writes them (relaxed atomics, no lock, no
// contention); the admin thread sums all shards at scrape time.
struct WorkerMetrics {
  static constexpr size_t kOutcomes = meter::kOutcomeCount;

  std::array<std::atomic<uint64_t>, 6>
      responses_by_class{};  // index = status / 100 (1..5), 0 other
  std::array<std::atomic<uint64_t>, kOutcomes> calls_by_outcome{};
  std::atomic<uint64_t> unpriced_calls{0};
  std::atomic<uint64_t> estimated_usage_calls{0};
  std::atomic<uint64_t> usage_repaired_calls{0};  // events with usage_flags
  std::atomic<uint64_t> events_dropped{0};
  std::atomic<uint64_t> upstream_connect_errors{0};
  std::atomic<uint64_t> upstream_timeouts{0};
  std::atomic<uint64_t> pool_reused{0};
  std::atomic<uint64_t> pool_connected{0};
  std::atomic<uint64_t> pool_stale_retries{0};
  std::atomic<uint64_t> upstream_endpoint_retries{0};   // attempts moved to another endpoint
  std::atomic<uint64_t> upstream_fallbacks{0};          // attempts moved to a fallback upstream
  std::atomic<uint64_t> upstream_retries_denied{0};     // retries the retry budget refused
  std::atomic<uint64_t> upstream_ejections{0};          // endpoints ejected by outlier detection
  std::atomic<uint64_t> upstream_overloaded{0};         // calls answered 503 upstream_overloaded
  std::atomic<uint64_t> upstream_interim_dropped{0};    // 100 / 103 read and not relayed
  std::atomic<uint64_t> upstream_protocol_errors{0};    // 101, or too many interim answers
  std::atomic<uint64_t> upstream_encoded_responses{0};  // Content-Encoding despite identity
  std::atomic<uint64_t> request_trailers_dropped{0};    // trailer fields of chunked requests
  std::atomic<uint64_t> refusal_events_suppressed{0};   // unauthenticated refusals not booked
  std::atomic<uint64_t> pool_expired{0};                // idle past upstreams[].idle_keepalive_ms
  std::atomic<uint64_t> pool_unread_discarded{0};       // released with bytes nobody asked for
  std::atomic<uint64_t> pool_probe_discarded{0};        // found closed or talking when reused
  std::atomic<uint64_t> pool_endpoint_retired{0};       // idle, to an endpoint a reload replaced
  std::atomic<uint64_t> accept_pauses{0};               // accepting paused: out of descriptors
  std::atomic<uint64_t> connections_over_cap{0};  // closed at once: max_connections_per_worker
  std::atomic<uint64_t> log_warnings_suppressed{0};
  std::atomic<int64_t> open_client_connections{0};
  std::atomic<uint64_t> unallocated_calls{0};     // served with allocated: false (warn mode)
  std::atomic<uint64_t> attribution_warnings{0};  // warn mode: labels ignored or missing
  std::array<std::atomic<uint64_t>, kRefusalCodes> admission_refusals{};  // by RefusalCode

  void add(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
  void recordEvent(const meter::CostEvent& event);
};

}  // namespace tollgate::gateway
