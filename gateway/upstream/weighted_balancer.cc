#include "gateway/upstream/weighted_balancer.h"

namespace tollgate::gateway {

size_t WeightedBalancer::pick(std::span<const EndpointState> endpoints,
                              std::span<const size_t> candidates, Clock::time_point,
                              RandomSource&) {
  if (current_.size() < endpoints.size()) current_.resize(endpoints.size(), 0);
  int64_t total = 0;
  size_t best = candidates[0];
  for (size_t i : candidates) {
    current_[i] += endpoints[i].weight;
    total += endpoints[i].weight;
    if (current_[i] > current_[best]) best = i;
  }
  current_[best] -= total;
  return best;
}

}  // namespace tollgate::gateway
