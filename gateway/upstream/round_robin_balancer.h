#pragma once

#include "gateway/upstream/balancer.h"

namespace tollgate::gateway {

// Each candidate in turn, whatever its latency or load.
class RoundRobinBalancer final : public Balancer {
 public:
  size_t pick(std::span<const EndpointState> endpoints, std::span<const size_t> candidates,
              Clock::time_point now, RandomSource& random) override;

 private:
  size_t next_ = 0;
};

}  // namespace tollgate::gateway
