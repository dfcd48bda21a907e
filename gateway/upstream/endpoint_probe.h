#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "config/config.h"
#include "gateway/core/io.h"
#include "gateway/upstream/upstream_pool.h"

namespace tollgate::gateway {

struct ProbeResult {
  bool answered = false;  // a complete response head (and body within the limit) was read
  unsigned status = 0;
  std::string body;
  std::string detail;  // why not answered, for logs
};

// One GET of `path` (under the endpoint's base path) on an endpoint view (see endpointView),
// with its injected headers, through the worker's connection pool: what active health checks
// and the load-signal scrape send. The whole exchange is bounded by `timeout`; a body beyond
// `body_limit` is not answered.
Awaitable<ProbeResult> probeEndpoint(UpstreamPool& pool, const config::UpstreamConfig& endpoint,
                                     std::string_view path, std::chrono::milliseconds timeout,
                                     size_t body_limit);

}  // namespace tollgate::gateway
