#include "gateway/server/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <stdexcept>

#include "gateway/core/detached_completion.h"
#include "gateway/core/thread_name.h"
#include "gateway/events/open_call_recovery.h"
#include "gateway/proxy/downstream_session.h"
#include "gateway/server/metrics_page.h"

namespace tollgate::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds kAcceptPause{100};

tcp::endpoint toEndpoint(const config::ListenAddress& address, std::string_view key) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address.host, ec);
  if (ec) {
    throw std::runtime_error(std::string(key) + ": '" + address.host + "' is not an IP address");
  }
  return {ip, address.port};
}

std::string describe(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
         std::to_string(ep.port());
}

Awaitable<void> serveConnection(WorkerContext& ctx, Socket socket,
                                std::atomic<size_t>& open_sessions) {
  // Counted open by the accept loop, before this coroutine was spawned (the cap reads it).
  {
    DownstreamSession session(ctx, std::move(socket));
    co_await session.run();
  }
  open_sessions.fetch_sub(1, std::memory_order_relaxed);
}

// Out of file descriptors (or kernel memory), accept fails at once for as long as the condition
// lasts: retrying at once spins a core and floods the log. Accepting pauses instead, as nginx
// does; pending connections wait in the listen backlog meanwhile.
bool outOfResources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

Awaitable<void> acceptLoop(Acceptor& acceptor, WorkerContext& ctx,
                           std::atomic<size_t>& open_sessions) {
  using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                           asio::wait_traits<std::chrono::steady_clock>, Executor>;
  Timer pause(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      const bool pausing = outOfResources(ec);
      ctx.warnings->warn("accept_failed", "accept failed worker={} error=\"{}\" pause_ms={}",
                         ctx.index, ec.message(), pausing ? kAcceptPause.count() : 0);
      if (pausing) {
        ctx.metrics->add(ctx.metrics->accept_pauses);
        pause.expires_after(kAcceptPause);
        co_await pause.async_wait(kNoThrow);
      }
      continue;
    }
    const size_t cap = ctx.runtime->load()->config->server.limits.max_connections_per_worker;
    if (open_sessions.load(std::memory_order_relaxed) >= cap) {
      ctx.metrics->add(ctx.metrics->connections_over_cap);
      ctx.warnings->warn("connections_over_cap",
                         "connection closed at once: server.limits.max_connections_per_worker={} "
                         "reached worker={}",
                         cap, ctx.index);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    open_sessions.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(acceptor.get_executor(), serveConnection(ctx, std::move(socket), open_sessions),
                   DetachedCompletion("client connection"));
  }
}

}  // namespace

Server::Server(std::shared_ptr<const Runtime> runtime, std::unique_ptr<EventSink> sink,
               std::string instance_id, std::string version)
    : runtime_(std::move(runtime)),
      sink_(std::move(sink)),
      instance_id_(std::move(instance_id)),
      version_(std::move(version)) {}

Server::~Server() {
  for (auto& w : workers_) {
    w->ioc.stop();
    if (w->thread.joinable()) w->thread.join();
    w->deadlines->stop();
    if (w->open_calls) w->open_calls->stop();
  }
  admin_ioc_.stop();
  if (admin_thread_.joinable()) admin_thread_.join();
}

void Server::bind() {
  const auto cfg = runtime_.load()->config;
  unsigned n = cfg->server.workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  auto endpoint = toEndpoint(cfg->server.listen, "server.listen");
  observability_ = std::make_unique<Observability>(*cfg, n, instance_id_, version_);
  endpoint_metrics_ = std::make_unique<EndpointMetrics>(n);
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->acceptor = std::make_unique<Acceptor>(w->ioc.get_executor());
    boost::system::error_code ec;
    w->acceptor->open(endpoint.protocol(), ec);
    if (!ec) w->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      const int one = 1;
      if (::setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) !=
          0) {
        ec = boost::system::error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) w->acceptor->bind(endpoint, ec);
    if (!ec) w->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("server.listen: cannot listen on " + describe(endpoint) + ": " +
                               ec.message());
    }
    // Port 0: the first listener got a port from the OS; the others share it (SO_REUSEPORT).
    endpoint = w->acceptor->local_endpoint();
    w->warnings =
        std::make_unique<RateLimitedLog>(spdlog::get("gateway"), RateLimitedLog::kDefaultPerSecond,
                                         &w->metrics.log_warnings_suppressed);
    w->pool = std::make_unique<UpstreamPool>(w->ioc.get_executor(), w->metrics, w->warnings.get());
    w->deadlines = std::make_unique<DeadlineSweeper>(w->ioc.get_executor());
    w->ctx.index = i;
    w->ctx.runtime = &runtime_;
    w->ctx.sink = sink_.get();
    w->ctx.metering = runtime_.load()->config->events.sink != "none";
    w->ctx.draining = &draining_;
    w->ctx.event_source = "tollgate://" + instance_id_;
    w->ctx.metrics = &w->metrics;
    w->ctx.pool = w->pool.get();
    w->upstream_pools =
        std::make_unique<WorkerPools>(0x5eed0000ull + i, endpoint_metrics_.get(), i);
    w->ctx.upstream_pools = w->upstream_pools.get();
    // Checks follow the live snapshot, so a reload's new endpoints are checked before a call.
    w->monitor = std::make_unique<PoolMonitor>(
        w->ioc.get_executor(), *w->pool,
        [this, pools = w->upstream_pools.get()] {
          return pools->forConfig(runtime_.load()->config, std::chrono::steady_clock::now());
        },
        [](const config::UpstreamConfig& upstream, size_t endpoint, bool healthy) {
          spdlog::get("gateway")->warn("upstream endpoint {} upstream={} endpoint={} url={}",
                                       healthy ? "healthy again" : "unhealthy", upstream.name,
                                       endpoint, upstream.endpoints[endpoint].base_url);
        });
    w->ctx.warnings = w->warnings.get();
    w->ctx.deadlines = w->deadlines.get();
    const auto& events = cfg->events;
    if (w->ctx.metering && events.open_calls.enabled) {
      // One journal file per worker and start: a restart never appends to what the recovery
      // at start read.
      auto journal = std::make_unique<OpenCallJournal>(
          OpenCallJournal::Options{openCallsDir(events), events.open_calls.fsync},
          open_calls_generation_, i);
      w->open_calls = std::make_unique<OpenCallTracker>(
          w->ioc.get_executor(), std::move(journal),
          OpenCallTracker::Options{events.open_calls.after, events.open_calls.refresh});
      w->ctx.open_calls = w->open_calls.get();
    }
    w->ctx.observers = observability_->observersFor(i);
    workers_.push_back(std::move(w));
  }
  listen_endpoint_ = endpoint;

  try {
    admin_ = std::make_unique<AdminServer>(
        admin_ioc_, toEndpoint(cfg->server.admin_listen, "server.admin_listen"),
        AdminServer::Handlers{
            .ready = [this] { return !draining_.load() && sink_->ready(); },
            .metrics = [this] { return renderMetrics(); },
        });
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(
        "server.admin_listen: cannot listen on " + cfg->server.admin_listen.host + ":" +
        std::to_string(cfg->server.admin_listen.port) + ": " + e.code().message());
  }
}

std::string Server::renderMetrics() const {
  std::vector<const WorkerMetrics*> shards;
  shards.reserve(workers_.size());
  for (const auto& w : workers_) shards.push_back(&w->metrics);
  std::string out;
  out.reserve(8192);
  PrometheusWriter writer(out);
  renderWorkerMetrics(shards, sink_->stats(), version_, writer);
  renderEndpointMetrics(*endpoint_metrics_, *runtime_.load()->config,
                        std::chrono::steady_clock::now(), writer);
  observability_->renderPrometheus(writer);
  runtime_.load()->policies.renderMetrics(writer);
  if (reloader_) reloader_->renderMetrics(writer);
  return out;
}

void Server::startWorker(Worker& w) {
  asio::co_spawn(w.ioc.get_executor(), acceptLoop(*w.acceptor, w.ctx, w.open_sessions),
                 DetachedCompletion("accept loop"));
  asio::co_spawn(w.ioc.get_executor(), w.monitor->run(), DetachedCompletion("pool monitor"));
  w.thread = std::thread([&w] {
    nameThisThread("tg-worker-" + std::to_string(w.ctx.index));
    w.ioc.run();
  });
}

int Server::run() {
  // Signals are caught from here on; a SIGTERM before the ready line is still a clean stop.
  asio::io_context signals_ioc{1};
  asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  if (reloader_) signals.add(SIGHUP);
  int signal_number = 0;
  // SIGHUP reloads on this (main) thread and waits again; workers never wait for a reload.
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          if (reloader_->reload(runtime_)) retireOldEndpoints();
          signals.async_wait(on_signal);
          return;
        }
        signal_number = sig;
      };
  signals.async_wait(on_signal);

  observability_->start();
  for (auto& w : workers_) startWorker(*w);
  admin_->start();
  admin_thread_ = std::thread([this] {
    nameThisThread("tg-admin");
    admin_ioc_.run();
  });

  spdlog::get("gateway")->info("listening on {} admin {} workers={} sink={}",
                               describe(listen_endpoint_), describe(admin_->localEndpoint()),
                               workers_.size(), runtime_.load()->config->events.sink);
  std::printf("tollgate listening on %s admin %s\n", describe(listen_endpoint_).c_str(),
              describe(admin_->localEndpoint()).c_str());
  std::fflush(stdout);

  signals_ioc.run();
  spdlog::get("gateway")->info("signal {} received: draining", signal_number);
  shutdown();
  return 0;
}

void Server::retireOldEndpoints() {
  auto runtime = runtime_.load();
  for (auto& w : workers_) {
    asio::post(w->ioc, [&w = *w, runtime] { w.pool->retainEndpointsOf(*runtime->config); });
  }
}

void Server::shutdown() {
  draining_.store(true);
  for (auto& w : workers_) {
    asio::post(w->ioc, [&w = *w] {
      boost::system::error_code ec;
      w.monitor->stop();
      w.acceptor->close(ec);
      for (auto* session : std::vector<DownstreamSession*>(w.ctx.sessions)) session->closeIfIdle();
    });
  }
  const auto cfg = runtime_.load()->config;
  const auto deadline = std::chrono::steady_clock::now() + cfg->server.timeouts.shutdown_drain;
  auto in_flight = [&] {
    size_t n = 0;
    for (auto& w : workers_) n += w->open_sessions.load();
    return n;
  };
  while (in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const size_t abandoned = in_flight();
  // Idle upstream connections close with their worker's pool, after its thread has stopped.
  for (auto& w : workers_) w->ioc.stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  admin_->stop();
  admin_ioc_.stop();
  if (admin_thread_.joinable()) admin_thread_.join();
  observability_->stop(cfg->server.timeouts.shutdown_drain);
  const uint64_t left = sink_->stop(cfg->server.timeouts.shutdown_drain);
  spdlog::get("gateway")->info("stopped: connections_abandoned={} events_undelivered={}", abandoned,
                               left);
}

}  // namespace tollgate::gateway
