#include "gateway/upstream/p2c_ewma_balancer.h"

namespace tollgate::gateway {

size_t P2cEwmaBalancer::pick(std::span<const EndpointState> endpoints,
                             std::span<const size_t> candidates, Clock::time_point now,
                             RandomSource& random) {
  if (candidates.size() == 1) return candidates[0];
  const size_t a = random.below(candidates.size());
  size_t b = random.below(candidates.size() - 1);
  if (b >= a) ++b;
  const size_t first = candidates[a];
  const size_t second = candidates[b];
  return endpoints[second].cost(now) < endpoints[first].cost(now) ? second : first;
}

}  // namespace tollgate::gateway
