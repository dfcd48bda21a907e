#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/core/io.h"
#include "gateway/core/rate_limited_log.h"
#include "gateway/events/event_sink.h"
#include "gateway/events/open_call_tracker.h"
#include "gateway/proxy/worker_context.h"
#include "gateway/server/admin_server.h"
#include "gateway/server/reload.h"
#include "gateway/telemetry/observability.h"
#include "gateway/upstream/endpoint_metrics.h"
#include "gateway/upstream/pool_monitor.h"
#include "gateway/upstream/worker_pools.h"

namespace tollgate::gateway {

// The gateway process: N workers (one io_context and thread each, each with its own
// SO_REUSEPORT listener, upstream pool and metric shard), the admin listener on its own thread,
// and the shared runtime snapshot and event sink.
class Server {
 public:
  Server(std::shared_ptr<const Runtime> runtime, std::unique_ptr<EventSink> sink,
         std::string instance_id, std::string version);
  ~Server();

  // Enables SIGHUP: reload the configuration through `reloader` (set before run()).
  void setReloader(std::unique_ptr<ConfigReloader> reloader) { reloader_ = std::move(reloader); }

  // Binds every listener; throws std::runtime_error naming the address when one cannot be bound.
  void bind();

  // Serves until SIGINT or SIGTERM, then: stop accepting, finish calls in flight (bounded by
  // server.timeouts.shutdown_drain), flush the sink, and return the process exit code.
  int run();

  const boost::asio::ip::tcp::endpoint& listenEndpoint() const { return listen_endpoint_; }
  boost::asio::ip::tcp::endpoint adminEndpoint() const { return admin_->localEndpoint(); }

 private:
  struct Worker {
    // Declared before the io_context, so destroyed after it: sessions still in flight when the
    // server is destroyed are destroyed with the io_context, and they touch these.
    WorkerMetrics metrics;
    WorkerContext ctx;
    std::unique_ptr<DeadlineSweeper> deadlines;   // its timer is released before the io_context
    std::unique_ptr<OpenCallTracker> open_calls;  // likewise; null when the journal is off
    boost::asio::io_context ioc{1};
    std::unique_ptr<Acceptor> acceptor;
    std::unique_ptr<RateLimitedLog> warnings;  // before the pool, which holds it
    std::unique_ptr<UpstreamPool> pool;
    std::unique_ptr<WorkerPools> upstream_pools;
    std::unique_ptr<PoolMonitor> monitor;  // the pools' health checks and load scrapes
    std::thread thread;
    std::atomic<size_t> open_sessions{0};
  };

  void startWorker(Worker& worker);
  void shutdown();
  // After a reload: each worker closes its idle connections to endpoints no longer configured.
  void retireOldEndpoints();
  std::string renderMetrics() const;

  RuntimeHolder runtime_;
  std::unique_ptr<EventSink> sink_;
  std::string instance_id_;
  // Names this start's open-call journal files (unix ms at construction).
  const uint64_t open_calls_generation_ =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  std::string version_;
  std::atomic<bool> draining_{false};
  // Every worker's per-endpoint stats (created in bind()); outlives the workers' pools.
  std::unique_ptr<EndpointMetrics> endpoint_metrics_;
  std::vector<std::unique_ptr<Worker>> workers_;
  boost::asio::ip::tcp::endpoint listen_endpoint_;
  boost::asio::io_context admin_ioc_{1};
  std::unique_ptr<AdminServer> admin_;
  std::thread admin_thread_;
  // Metrics, tracing and access log observers of every worker (created in bind()).
  std::unique_ptr<Observability> observability_;
  std::unique_ptr<ConfigReloader> reloader_;
};

}  // namespace tollgate::gateway
