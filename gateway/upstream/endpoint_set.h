#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "config/config.h"
#include "gateway/upstream/attempt_result.h"
#include "gateway/upstream/balancer.h"
#include "gateway/upstream/endpoint_state.h"
#include "gateway/upstream/endpoint_stats.h"
#include "gateway/upstream/load_sample.h"

namespace tollgate::gateway {

// The answer to "which endpoint takes this call?".
struct EndpointPick {
  enum class Kind {
    kPicked,       // `index` takes it
    kOverloaded,   // every usable endpoint is at max_outstanding: 503 upstream_overloaded
    kCoolingDown,  // every endpoint not yet tried is inside an upstream's Retry-After
    kExhausted,    // every endpoint was already tried by this call
  };
  Kind kind = Kind::kExhausted;
  size_t index = 0;
  std::chrono::seconds retry_after{0};  // kOverloaded, kCoolingDown: what the client is told
};

// One worker's view of one upstream's endpoints: calls in flight, latency estimates, health,
// ejections, Retry-After cool-downs, load samples. Pure: the caller passes the time, the
// randomness and each outcome; one thread only (a worker's), so no locks.
//
// Which endpoints may take a call: those not yet tried by it, not cooling down, healthy and not
// ejected. When none is healthy and not ejected, all not cooling down are used (Envoy's panic
// mode): a pool whose checks all fail is more likely misconfigured checks than all down, and
// calls failing on their own merits beat calls refused without a try.
class EndpointSet {
 public:
  using Clock = std::chrono::steady_clock;

  // The latency estimate of an endpoint before its first answer, and how fast estimates decay.
  static constexpr PeakEwma::Nanos kInitialLatency = std::chrono::milliseconds(100);
  static constexpr PeakEwma::Nanos kLatencyDecay = std::chrono::seconds(10);
  // What an overloaded pool's 503 tells the client.
  static constexpr std::chrono::seconds kOverloadRetryAfter{1};

  EndpointSet(const config::UpstreamConfig& upstream, Clock::time_point now);

  EndpointPick pick(Balancer& balancer, RandomSource& random, Clock::time_point now,
                    std::span<const size_t> tried = {});

  // A call was sent to endpoint `i` (after pick).
  void onStart(size_t i) {
    ++endpoints_[i].outstanding;
    if (auto* s = stats_[i]) s->outstanding.fetch_add(1, std::memory_order_relaxed);
  }

  // The call on `i` ended without saying anything about the endpoint (a pooled connection the
  // upstream had closed while idle).
  void onCancel(size_t i) { release(i); }

  // The call on `i` ended. `first_byte`: the time to the response's first byte when one came
  // (or the time waited, for a TTFT timeout), which feeds the latency estimate. Returns true
  // when the outcome ejected the endpoint.
  bool onFinish(size_t i, AttemptResult result, std::optional<PeakEwma::Nanos> first_byte,
                Clock::time_point now);

  // The upstream answered `i` with Retry-After: no call goes there before `until`.
  void coolDown(size_t i, Clock::time_point until);

  // An active health check of `i` ended. Returns true when it changed the endpoint's health.
  bool onHealthCheck(size_t i, bool passed);

  void onLoadSample(size_t i, const LoadSample& sample) { endpoints_[i].load = sample; }

  // A failed attempt on `i` moved on: to another endpoint of this upstream, or to a fallback.
  void onMovedOn(size_t i, bool to_fallback) {
    if (auto* s = stats_[i]) EndpointStats::bump(to_fallback ? s->fallbacks : s->retried);
  }

  void carryOver(size_t i, const EndpointState& old, Clock::time_point now);

  // From now on `i`'s state is published to `stats` (for /metrics), starting with what it is.
  void attachStats(size_t i, EndpointStats& stats, Clock::time_point now);

  size_t size() const { return endpoints_.size(); }
  const EndpointState& endpoint(size_t i) const { return endpoints_[i]; }
  size_t ejectedCount(Clock::time_point now) const;

 private:
  void release(size_t i) {
    if (endpoints_[i].outstanding > 0) --endpoints_[i].outstanding;
    if (auto* s = stats_[i]) s->outstanding.fetch_sub(1, std::memory_order_relaxed);
  }
  void publish(size_t i, Clock::time_point now);

  std::vector<EndpointState> endpoints_;
  size_t max_outstanding_;
  size_t max_ejected_;              // never more ejected at once (at least one endpoint stays in)
  std::vector<size_t> candidates_;  // reused by pick
  std::vector<EndpointStats*> stats_;  // per endpoint; null when not published
};

}  // namespace tollgate::gateway
