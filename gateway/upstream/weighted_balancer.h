#pragma once

#include <cstdint>
#include <vector>

#include "gateway/upstream/balancer.h"

namespace tollgate::gateway {

// Smooth weighted round robin (nginx): over any run of total-weight picks each candidate gets
// exactly its weight's share, interleaved (weights 5,1,1 give a a b a c a a, not a a a a a b c).
class WeightedBalancer final : public Balancer {
 public:
  explicit WeightedBalancer(size_t size) : current_(size, 0) {}

  size_t pick(std::span<const EndpointState> endpoints, std::span<const size_t> candidates,
              Clock::time_point now, RandomSource& random) override;

 private:
  std::vector<int64_t> current_;
};

}  // namespace tollgate::gateway
