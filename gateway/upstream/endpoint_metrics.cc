#include "gateway/upstream/endpoint_metrics.h"

#include <algorithm>

#include "gateway/upstream/endpoint_set.h"
#include "gateway/upstream/peak_ewma.h"

namespace tollgate::gateway {

EndpointStats& EndpointMetrics::shard(size_t worker, const std::string& upstream,
                                      const std::string& endpoint_id) {
  std::lock_guard lock(mutex_);
  auto& per_worker = shards_[Key{upstream, endpoint_id}];
  if (per_worker.empty()) per_worker.resize(workers_);
  auto& slot = per_worker.at(worker);
  if (!slot) slot = std::make_unique<EndpointStats>();
  return *slot;
}

std::optional<EndpointMetrics::Row> EndpointMetrics::read(const std::string& upstream,
                                                          const std::string& endpoint_id,
                                                          Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = shards_.find(Key{upstream, endpoint_id});
  if (it == shards_.end()) return std::nullopt;
  const int64_t now_ns = EndpointStats::nanos(now);
  Row row;
  bool any = false;
  for (const auto& s : it->second) {
    if (!s || !s->published.load(std::memory_order_relaxed)) continue;
    any = true;
    row.outstanding += s->outstanding.load(std::memory_order_relaxed);
    const auto since = PeakEwma::Nanos(
        std::max<int64_t>(now_ns - s->latency_stamp_ns.load(std::memory_order_relaxed), 0));
    const double latency = PeakEwma::decayed(s->latency_ns.load(std::memory_order_relaxed), since,
                                             EndpointSet::kLatencyDecay);
    row.latency_seconds = std::max(row.latency_seconds, latency / 1e9);
    if (!s->healthy.load(std::memory_order_relaxed)) {
      ++row.unhealthy;
    } else if (now_ns < s->ejected_until_ns.load(std::memory_order_relaxed)) {
      ++row.ejected;
    } else {
      ++row.healthy;
    }
    row.ejections += s->ejections.load(std::memory_order_relaxed);
    row.retried += s->retried.load(std::memory_order_relaxed);
    row.fallbacks += s->fallbacks.load(std::memory_order_relaxed);
  }
  if (!any) return std::nullopt;
  return row;
}

}  // namespace tollgate::gateway
