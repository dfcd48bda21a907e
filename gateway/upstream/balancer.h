#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "gateway/upstream/endpoint_state.h"
#include "gateway/upstream/random_source.h"

namespace tollgate::gateway {

// Chooses one endpoint of a pool for a call. EndpointSet has already narrowed the choice to the
// endpoints that may take it (healthy, not ejected, not cooling down, below max_outstanding).
class Balancer {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~Balancer() = default;

  // One of `candidates` (indices into `endpoints`; never empty).
  virtual size_t pick(std::span<const EndpointState> endpoints, std::span<const size_t> candidates,
                      Clock::time_point now, RandomSource& random) = 0;
};

// The balancer named by an upstream's `balancer:` key (p2c_ewma when the name is unknown, which
// the config loader never lets through) for a pool of `size` endpoints.
std::unique_ptr<Balancer> makeBalancer(std::string_view name, size_t size);

}  // namespace tollgate::gateway
