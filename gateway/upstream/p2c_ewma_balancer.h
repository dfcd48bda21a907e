#pragma once

#include "gateway/upstream/balancer.h"

namespace tollgate::gateway {

// Power of two choices over peak-EWMA latency x (outstanding + 1) (Finagle's and Linkerd's
// default): two distinct random candidates, the cheaper wins. Two random draws instead of the
// global minimum keep many workers, each with its own view, from all piling onto the one
// endpoint that looks best.
class P2cEwmaBalancer final : public Balancer {
 public:
  size_t pick(std::span<const EndpointState> endpoints, std::span<const size_t> candidates,
              Clock::time_point now, RandomSource& random) override;
};

}  // namespace tollgate::gateway
