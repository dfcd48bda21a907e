#pragma once

#include "gateway/upstream/balancer.h"

namespace tollgate::gateway {

// The candidate with the fewest calls in flight (plus the server's queue when a load signal is
// fresh); ties go to the first of them after a rotating start, so equal endpoints share.
class LeastOutstandingBalancer final : public Balancer {
 public:
  size_t pick(std::span<const EndpointState> endpoints, std::span<const size_t> candidates,
              Clock::time_point now, RandomSource& random) override;

 private:
  size_t start_ = 0;
};

}  // namespace tollgate::gateway
