#include "gateway/upstream/round_robin_balancer.h"

namespace tollgate::gateway {

size_t RoundRobinBalancer::pick(std::span<const EndpointState>, std::span<const size_t> candidates,
                                Clock::time_point, RandomSource&) {
  return candidates[next_++ % candidates.size()];
}

}  // namespace tollgate::gateway
