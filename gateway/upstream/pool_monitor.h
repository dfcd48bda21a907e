#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "gateway/core/io.h"
#include "gateway/upstream/upstream_pool.h"
#include "gateway/upstream/upstream_pools.h"

namespace tollgate::gateway {

// A worker's active health checks and load-signal scrapes. Each worker checks every endpoint
// itself (a coroutine per worker, not one shared checker): its EndpointSet is its own, with no
// lock or cross-thread state, at the price of `workers` probes per endpoint and interval, which
// at the 100 ms minimum interval and a handful of workers is still noise next to real calls.
// Starts are spread over the first interval so workers do not probe in step.
class PoolMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  // The worker's pools of the live config snapshot (a reload replaces them).
  using CurrentPools = std::function<std::shared_ptr<UpstreamPools>()>;
  // Called when a check changed an endpoint's health: (upstream, endpoint index, healthy).
  using OnHealthChange = std::function<void(const config::UpstreamConfig&, size_t, bool)>;

  static constexpr std::chrono::milliseconds kTick{50};
  static constexpr size_t kMetricsBodyLimit = 4 * 1024 * 1024;
  // A load sample is used for this many scrape intervals, then ignored as stale.
  static constexpr int kSampleLifetimeIntervals = 3;

  PoolMonitor(Executor executor, UpstreamPool& pool, CurrentPools current,
              OnHealthChange on_change = {});

  // Runs until stop(); co_spawn it on the worker's executor.
  Awaitable<void> run();

  void stop();

 private:
  struct Schedule {
    Clock::time_point next_health{};
    Clock::time_point next_load{};
    bool health_in_flight = false;
    bool load_in_flight = false;
  };

  void startDue(const std::shared_ptr<UpstreamPools>& pools, Clock::time_point now);
  Awaitable<void> checkHealth(std::shared_ptr<UpstreamPools> pools, size_t u, size_t i);
  Awaitable<void> scrapeLoad(std::shared_ptr<UpstreamPools> pools, size_t u, size_t i);

  Executor executor_;
  UpstreamPool& pool_;
  CurrentPools current_;
  OnHealthChange on_change_;
  boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Executor> timer_;
  // Keyed by endpoint identity: a reload keeps each endpoint's rhythm.
  std::unordered_map<std::string, Schedule> schedules_;
  uint64_t spread_ = 0;
  bool stopped_ = false;
};

}  // namespace tollgate::gateway
