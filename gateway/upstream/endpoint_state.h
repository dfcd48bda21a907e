#pragma once

#include <chrono>
#include <cstdint>

#include "config/config.h"
#include "gateway/upstream/health_tracker.h"
#include "gateway/upstream/load_sample.h"
#include "gateway/upstream/outlier_tracker.h"
#include "gateway/upstream/peak_ewma.h"

namespace tollgate::gateway {

// What one worker knows of one endpoint of a pool.
struct EndpointState {
  using Clock = std::chrono::steady_clock;

  EndpointState(const config::UpstreamConfig& upstream, uint32_t endpoint_weight,
                PeakEwma::Nanos initial_latency, PeakEwma::Nanos latency_decay,
                Clock::time_point now)
      : weight(endpoint_weight),
        latency(initial_latency, latency_decay, now),
        health(upstream.health.unhealthy_after, upstream.health.healthy_after),
        outlier(upstream.outlier_detection) {}

  // The p2c cost: the latency estimate times the work ahead of a new call, which is the calls
  // this worker has in flight there, plus the server's own queue and scaled by its KV-cache
  // use when a fresh load signal says so.
  double cost(Clock::time_point now) const {
    double ahead = static_cast<double>(outstanding) + 1.0;
    double scale = 1.0;
    if (load.fresh(now)) {
      ahead += load.requests_waiting;
      scale += load.kv_cache_usage;
    }
    return latency.estimate(now) * ahead * scale;
  }

  // Outstanding calls plus the server's queue when known: least_outstanding's measure.
  double queued(Clock::time_point now) const {
    return static_cast<double>(outstanding) + (load.fresh(now) ? load.requests_waiting : 0.0);
  }

  // After a reload, from the same endpoint in the old snapshot. Calls in flight stay counted
  // there: they finish on the old snapshot's pools.
  void carryOver(const EndpointState& old) {
    latency = old.latency;
    health.carryOver(old.health);
    outlier.carryOver(old.outlier);
    load = old.load;
    cooling_until = old.cooling_until;
  }

  uint32_t weight;
  uint32_t outstanding = 0;
  PeakEwma latency;
  HealthTracker health;
  OutlierTracker outlier;
  LoadSample load;
  // An upstream's Retry-After (429, 503): no new call goes here before then.
  Clock::time_point cooling_until{};
};

}  // namespace tollgate::gateway
