#pragma once

#include "config/config.h"

namespace tollgate::gateway {

// What the router decided for a call: the configured upstream that serves its model. Which of
// the upstream's endpoints each attempt goes to, and whether a failed attempt goes on to another
// endpoint or a fallback, is the worker's: UpstreamPools (endpoint set, balancer, health) and
// FailoverPlanner, whose state is per worker and so cannot live in this shared, immutable
// routing table.
class UpstreamSet {
 public:
  explicit UpstreamSet(const config::UpstreamConfig& upstream) : upstream_(&upstream) {}

  const config::UpstreamConfig& config() const { return *upstream_; }

 private:
  const config::UpstreamConfig* upstream_;
};

}  // namespace tollgate::gateway
