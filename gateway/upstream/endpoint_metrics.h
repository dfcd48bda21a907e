#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "gateway/upstream/endpoint_stats.h"

namespace tollgate::gateway {

// Every worker's EndpointStats, for the per-endpoint families of /metrics. Endpoint state lives
// in each worker's own EndpointSet (no lock on the call path); each worker publishes to its own
// shard here, and a scrape sums or compares the shards.
//
// The lock guards the registry's map only: taken when a worker builds its pools for a config
// snapshot (at start and after a reload, never per call) and by the scrape.
class EndpointMetrics {
 public:
  using Clock = std::chrono::steady_clock;

  // One endpoint across workers, as a scrape shows it.
  struct Row {
    int64_t outstanding = 0;     // summed over workers
    double latency_seconds = 0;  // the highest of the workers' estimates
    size_t healthy = 0;          // workers seeing the endpoint in each state
    size_t ejected = 0;
    size_t unhealthy = 0;
    uint64_t ejections = 0;
    uint64_t retried = 0;
    uint64_t fallbacks = 0;
  };

  explicit EndpointMetrics(size_t workers) : workers_(workers) {}

  // Worker `worker`'s stats for the endpoint `endpoint_id` of the upstream `upstream`; the
  // address is stable for the life of this object.
  EndpointStats& shard(size_t worker, const std::string& upstream, const std::string& endpoint_id);

  // The endpoint across the workers that have carried it; nullopt when none has yet.
  std::optional<Row> read(const std::string& upstream, const std::string& endpoint_id,
                          Clock::time_point now) const;

 private:
  using Key = std::pair<std::string, std::string>;  // upstream name, endpoint identity

  size_t workers_;
  mutable std::mutex mutex_;
  std::map<Key, std::vector<std::unique_ptr<EndpointStats>>> shards_;
};

}  // namespace tollgate::gateway
