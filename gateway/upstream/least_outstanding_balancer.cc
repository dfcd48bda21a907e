#include "gateway/upstream/least_outstanding_balancer.h"

namespace tollgate::gateway {

size_t LeastOutstandingBalancer::pick(std::span<const EndpointState> endpoints,
                                      std::span<const size_t> candidates, Clock::time_point now,
                                      RandomSource&) {
  const size_t n = candidates.size();
  const size_t start = start_++ % n;
  size_t best = candidates[start];
  for (size_t k = 1; k < n; ++k) {
    const size_t i = candidates[(start + k) % n];
    if (endpoints[i].queued(now) < endpoints[best].queued(now)) best = i;
  }
  return best;
}

}  // namespace tollgate::gateway
