#include "gateway/upstream/peak_ewma.h"

#include <algorithm>
#include <cmath>

namespace tollgate::gateway {

PeakEwma::PeakEwma(Nanos initial, Nanos decay, Clock::time_point now)
    : cost_ns_(static_cast<double>(initial.count())),
      tau_ns_(static_cast<double>(std::max<Nanos::rep>(decay.count(), 1))),
      stamp_(now) {}

double PeakEwma::estimate(Clock::time_point now) const {
  const double elapsed = static_cast<double>(std::max<Nanos::rep>((now - stamp_).count(), 0));
  return cost_ns_ * std::exp(-elapsed / tau_ns_);
}

double PeakEwma::decayed(double cost_ns, Nanos elapsed, Nanos decay) {
  const double tau = static_cast<double>(std::max<Nanos::rep>(decay.count(), 1));
  return cost_ns * std::exp(-static_cast<double>(std::max<Nanos::rep>(elapsed.count(), 0)) / tau);
}

void PeakEwma::observe(Nanos sample, Clock::time_point now) {
  const double rtt = static_cast<double>(std::max<Nanos::rep>(sample.count(), 0));
  if (!sampled_ || rtt > cost_ns_) {
    sampled_ = true;
    cost_ns_ = rtt;
  } else {
    const double elapsed = static_cast<double>(std::max<Nanos::rep>((now - stamp_).count(), 0));
    const double w = std::exp(-elapsed / tau_ns_);
    cost_ns_ = cost_ns_ * w + rtt * (1.0 - w);
  }
  stamp_ = std::max(stamp_, now);
}

}  // namespace tollgate::gateway
