#include "gateway/upstream/upstream_pools.h"

#include <span>

namespace tollgate::gateway {

config::UpstreamConfig endpointView(const config::UpstreamConfig& upstream, size_t i) {
  config::UpstreamConfig view = upstream;
  const config::UpstreamEndpoint& endpoint = upstream.endpoints[i];
  view.base_url = endpoint.base_url;
  view.scheme = endpoint.scheme;
  view.host = endpoint.host;
  view.port = endpoint.port;
  view.base_path = endpoint.base_path;
  view.host_header = endpoint.host_header;
  view.headers = endpoint.headers;
  view.endpoint_id = endpoint.endpoint_id;
  // The view stands for one endpoint: it holds no pool of its own.
  view.endpoints.clear();
  view.fallbacks.clear();
  return view;
}

UpstreamPools::Pool::Pool(const config::UpstreamConfig& upstream, Clock::time_point now)
    : endpoints(upstream, now),
      balancer(makeBalancer(upstream.balancer, upstream.endpoints.size())),
      budget(upstream.retry_budget),
      access_token(upstream.credentials_file) {
  views.reserve(upstream.endpoints.size());
  for (size_t i = 0; i < upstream.endpoints.size(); ++i) {
    views.push_back(endpointView(upstream, i));
  }
}

UpstreamPools::UpstreamPools(const config::Config& config, Clock::time_point now, uint64_t seed,
                             const UpstreamPools* previous, EndpointMetrics* metrics, size_t worker)
    : config_(config), random_(seed) {
  pools_.reserve(config.upstreams.size());
  const std::span<const config::UpstreamConfig> upstreams(config.upstreams);
  for (size_t u = 0; u < upstreams.size(); ++u) {
    Pool& pool = pools_.emplace_back(upstreams[u], now);
    pool.fallbacks = fallbackChain(upstreams, u);
    if (metrics != nullptr) {
      for (size_t i = 0; i < pool.views.size(); ++i) {
        pool.endpoints.attachStats(
            i, metrics->shard(worker, upstreams[u].name, pool.views[i].endpoint_id), now);
      }
    }
    if (previous == nullptr) continue;
    for (size_t i = 0; i < pool.views.size(); ++i) {
      for (const Pool& old : previous->pools_) {
        for (size_t j = 0; j < old.views.size(); ++j) {
          if (old.views[j].endpoint_id == pool.views[i].endpoint_id) {
            pool.endpoints.carryOver(i, old.endpoints.endpoint(j), now);
          }
        }
      }
    }
  }
}

}  // namespace tollgate::gateway
