#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "config/config.h"
#include "gateway/upstream/access_token_file.h"
#include "gateway/upstream/balancer.h"
#include "gateway/upstream/endpoint_metrics.h"
#include "gateway/upstream/endpoint_set.h"
#include "gateway/upstream/fallback_chain.h"
#include "gateway/upstream/retry_budget.h"
#include "gateway/upstream/split_mix64.h"

namespace tollgate::gateway {

// One worker's pools for one config snapshot: per upstream its endpoint set, balancer, retry
// budget and fallback chain, and per endpoint an UpstreamConfig that is the upstream with that
// endpoint's address, headers and identity, so the connection pool and the request writer,
// which know one base URL per upstream, serve any endpoint unchanged.
//
// A reload builds new pools; an endpoint whose identity is unchanged keeps its latency estimate,
// health and ejection state (a reload must not send traffic back to an ejected endpoint).
class UpstreamPools {
 public:
  using Clock = std::chrono::steady_clock;

  struct Pool {
    Pool(const config::UpstreamConfig& upstream, Clock::time_point now);

    EndpointSet endpoints;
    std::unique_ptr<Balancer> balancer;
    RetryBudget budget;
    std::vector<FallbackStep> fallbacks;
    std::vector<config::UpstreamConfig> views;  // one per endpoint
    AccessTokenFile access_token;               // the upstream's credentials_file
  };

  // With `metrics`, every endpoint publishes its state to worker `worker`'s shard there.
  UpstreamPools(const config::Config& config, Clock::time_point now, uint64_t seed,
                const UpstreamPools* previous = nullptr, EndpointMetrics* metrics = nullptr,
                size_t worker = 0);

  const config::Config& config() const { return config_; }
  Pool& pool(size_t upstream) { return pools_[upstream]; }
  RandomSource& random() { return random_; }

  // The index of an upstream of this snapshot (as the router returns it).
  size_t indexOf(const config::UpstreamConfig& upstream) const {
    return static_cast<size_t>(&upstream - config_.upstreams.data());
  }

 private:
  const config::Config& config_;
  std::vector<Pool> pools_;
  SplitMix64 random_;
};

// `upstream` with endpoint `i`'s address, headers and identity in its single-endpoint fields.
config::UpstreamConfig endpointView(const config::UpstreamConfig& upstream, size_t i);

}  // namespace tollgate::gateway
