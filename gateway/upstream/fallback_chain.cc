#include "gateway/upstream/fallback_chain.h"

#include <algorithm>
#include <functional>

namespace tollgate::gateway {

std::vector<FallbackStep> fallbackChain(std::span<const config::UpstreamConfig> upstreams,
                                        size_t first) {
  std::vector<FallbackStep> chain;
  std::vector<bool> visited(upstreams.size(), false);
  visited[first] = true;
  std::function<void(size_t, const std::string&)> visit = [&](size_t from,
                                                              const std::string& model) {
    for (const auto& fallback : upstreams[from].fallbacks) {
      const auto it = std::find_if(upstreams.begin(), upstreams.end(),
                                   [&](const auto& u) { return u.name == fallback.upstream; });
      if (it == upstreams.end()) continue;
      const auto to = static_cast<size_t>(it - upstreams.begin());
      if (visited[to]) continue;
      visited[to] = true;
      const size_t at = chain.size();
      chain.push_back({to, fallback.model.empty() ? model : fallback.model, fallback.on, 0});
      visit(to, chain[at].model);
      chain[at].subtree_end = chain.size();
    }
  };
  visit(first, "");
  return chain;
}

}  // namespace tollgate::gateway
