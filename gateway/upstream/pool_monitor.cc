#include "gateway/upstream/pool_monitor.h"

#include <boost/asio/co_spawn.hpp>

#include "gateway/core/detached_completion.h"
#include "gateway/upstream/endpoint_probe.h"
#include "gateway/upstream/vllm_metrics.h"

namespace tollgate::gateway {

namespace asio = boost::asio;

PoolMonitor::PoolMonitor(Executor executor, UpstreamPool& pool, CurrentPools current,
                         OnHealthChange on_change)
    : executor_(executor),
      pool_(pool),
      current_(std::move(current)),
      on_change_(std::move(on_change)),
      timer_(executor) {}

Awaitable<void> PoolMonitor::run() {
  while (!stopped_) {
    if (auto pools = current_()) startDue(pools, Clock::now());
    timer_.expires_after(kTick);
    co_await timer_.async_wait(kNoThrow);
  }
}

void PoolMonitor::stop() {
  stopped_ = true;
  timer_.cancel();
}

void PoolMonitor::startDue(const std::shared_ptr<UpstreamPools>& pools, Clock::time_point now) {
  const auto& upstreams = pools->config().upstreams;
  for (size_t u = 0; u < upstreams.size(); ++u) {
    const auto& upstream = upstreams[u];
    if (!upstream.health.enabled && !upstream.load_signal.enabled) continue;
    const auto& views = pools->pool(u).views;
    for (size_t i = 0; i < views.size(); ++i) {
      auto [it, fresh] = schedules_.try_emplace(views[i].endpoint_id);
      Schedule& s = it->second;
      if (fresh) {
        // Spread first checks over the interval (a golden-ratio sequence, no randomness needed).
        spread_ += 0x9e3779b97f4a7c15ull;
        const double phase = static_cast<double>(spread_ >> 11) / static_cast<double>(1ull << 53);
        s.next_health =
            now + std::chrono::duration_cast<Clock::duration>(upstream.health.interval * phase);
        s.next_load = now;
      }
      if (upstream.health.enabled && !s.health_in_flight && now >= s.next_health) {
        s.health_in_flight = true;
        s.next_health = now + upstream.health.interval;
        asio::co_spawn(executor_, checkHealth(pools, u, i), DetachedCompletion("health check"));
      }
      if (upstream.load_signal.enabled && !s.load_in_flight && now >= s.next_load) {
        s.load_in_flight = true;
        s.next_load = now + upstream.load_signal.interval;
        asio::co_spawn(executor_, scrapeLoad(pools, u, i), DetachedCompletion("load scrape"));
      }
    }
  }
}

Awaitable<void> PoolMonitor::checkHealth(std::shared_ptr<UpstreamPools> pools, size_t u, size_t i) {
  const auto& upstream = pools->config().upstreams[u];
  const auto& view = pools->pool(u).views[i];
  const ProbeResult result =
      co_await probeEndpoint(pool_, view, upstream.health.path, upstream.health.timeout, 64 * 1024);
  const bool passed = result.answered && result.status >= 200 && result.status < 300;
  schedules_[view.endpoint_id].health_in_flight = false;
  // A reload meanwhile: the old snapshot's state is no longer read; the next check feeds the new.
  if (pools != current_()) co_return;
  if (pools->pool(u).endpoints.onHealthCheck(i, passed) && on_change_) {
    on_change_(upstream, i, pools->pool(u).endpoints.endpoint(i).health.healthy());
  }
}

Awaitable<void> PoolMonitor::scrapeLoad(std::shared_ptr<UpstreamPools> pools, size_t u, size_t i) {
  const auto& upstream = pools->config().upstreams[u];
  const auto& view = pools->pool(u).views[i];
  const ProbeResult result = co_await probeEndpoint(
      pool_, view, upstream.load_signal.path, upstream.load_signal.interval, kMetricsBodyLimit);
  schedules_[view.endpoint_id].load_in_flight = false;
  if (pools != current_() || !result.answered || result.status != 200) co_return;
  if (const auto load = parseVllmMetrics(result.body)) {
    const auto valid_until =
        Clock::now() + upstream.load_signal.interval * kSampleLifetimeIntervals;
    pools->pool(u).endpoints.onLoadSample(
        i, {load->requests_waiting, load->kv_cache_usage, valid_until});
  }
}

}  // namespace tollgate::gateway
