#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "config/config.h"
#include "gateway/upstream/upstream_pools.h"

namespace tollgate::gateway {

// A worker's UpstreamPools for the live configuration: built at the first call of a snapshot
// (carrying over the state of endpoints that stay), kept alive by every call that uses them.
// Worker thread only.
class WorkerPools {
 public:
  using Clock = std::chrono::steady_clock;

  // With `metrics`, the pools publish their endpoints' state there as worker `worker`.
  explicit WorkerPools(uint64_t seed, EndpointMetrics* metrics = nullptr, size_t worker = 0)
      : seed_(seed), metrics_(metrics), worker_(worker) {}

  std::shared_ptr<UpstreamPools> forConfig(const std::shared_ptr<const config::Config>& config,
                                           Clock::time_point now) {
    if (!current_ || config_.get() != config.get()) {
      current_ =
          std::make_shared<UpstreamPools>(*config, now, ++seed_, current_.get(), metrics_, worker_);
      config_ = config;
    }
    return current_;
  }

  // The pools of the last snapshot a call used (null before the first call).
  std::shared_ptr<UpstreamPools> latest() const { return current_; }

 private:
  uint64_t seed_;
  EndpointMetrics* metrics_;
  size_t worker_;
  std::shared_ptr<const config::Config> config_;  // keeps the snapshot current_ refers to alive
  std::shared_ptr<UpstreamPools> current_;
};

}  // namespace tollgate::gateway
