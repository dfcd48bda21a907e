#pragma once

#include <chrono>

namespace tollgate::gateway {

// A latency estimate that jumps to any sample above it at once and decays towards lower samples
// (and, without samples, towards zero) with time constant `decay`: Finagle's and Linkerd's
// peak EWMA. A slow endpoint is avoided at its first slow answer; one left idle is tried again
// once its estimate has decayed, so it can show that it recovered.
class PeakEwma {
 public:
  using Clock = std::chrono::steady_clock;
  using Nanos = std::chrono::nanoseconds;

  // `initial`: the estimate before any sample, so a new endpoint is neither flooded (as a zero
  // would) nor starved. The first sample replaces it: a fast endpoint must not look as slow as
  // the default for the ten seconds a decay towards its real latency would take.
  PeakEwma(Nanos initial, Nanos decay, Clock::time_point now);

  void observe(Nanos sample, Clock::time_point now);

  // The estimate at `now`, in nanoseconds (decayed since the last sample).
  double estimate(Clock::time_point now) const;

  // An estimate of `cost_ns` taken `elapsed` ago, decayed with time constant `decay`.
  static double decayed(double cost_ns, Nanos elapsed, Nanos decay);

 private:
  double cost_ns_;
  bool sampled_ = false;
  double tau_ns_;
  Clock::time_point stamp_;
};

}  // namespace tollgate::gateway
