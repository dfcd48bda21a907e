#include "gateway/upstream/balancer.h"

#include "gateway/upstream/least_outstanding_balancer.h"
#include "gateway/upstream/p2c_ewma_balancer.h"
#include "gateway/upstream/round_robin_balancer.h"
#include "gateway/upstream/weighted_balancer.h"

namespace tollgate::gateway {

std::unique_ptr<Balancer> makeBalancer(std::string_view name, size_t size) {
  if (name == "least_outstanding") return std::make_unique<LeastOutstandingBalancer>();
  if (name == "round_robin") return std::make_unique<RoundRobinBalancer>();
  if (name == "weighted") return std::make_unique<WeightedBalancer>(size);
  return std::make_unique<P2cEwmaBalancer>();
}

}  // namespace tollgate::gateway
