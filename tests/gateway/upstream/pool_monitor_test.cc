// Active health checks and the vLLM load scrape against a small HTTP server in the test.
#include "gateway/upstream/pool_monitor.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "gateway/core/detached_completion.h"
#include "gateway/core/worker_metrics.h"
#include "pool_fixture.h"

namespace tollgate::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// Answers GET /health with `health_status`, GET /metrics with `metrics`; one request per
// connection (Connection: close). Counts health requests.
struct FakeServer {
  explicit FakeServer(asio::io_context& io)
      : acceptor(io.get_executor(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  Awaitable<void> serve() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
      if (ec) co_return;
      asio::streambuf in;
      auto [rec, n] = co_await asio::async_read_until(socket, in, "\r\n\r\n", kNoThrow);
      if (rec) continue;
      std::string head(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
      std::string body;
      unsigned status = 404;
      if (head.starts_with("GET /base/health ")) {
        ++health_requests;
        status = health_status;
        body = "ok";
      } else if (head.starts_with("GET /base/metrics ")) {
        status = 200;
        body = metrics;
      }
      last_head = head;
      std::string out =
          "HTTP/1.1 " + std::to_string(status) +
          " X\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
          body;
      co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
    }
  }

  uint16_t port() const { return acceptor.local_endpoint().port(); }

  Acceptor acceptor;
  unsigned health_status = 200;
  int health_requests = 0;
  std::string metrics;
  std::string last_head;
};

config::Config configFor(uint16_t port, const std::string& extra) {
  const std::string yaml =
      "upstreams:\n  - name: vllm\n    dialect: openai\n    models: [\"*\"]\n"
      "    headers: {authorization: \"Bearer probe\"}\n"
      "    endpoints:\n      - base_url: \"http://127.0.0.1:" +
      std::to_string(port) + "/base\"\n" + extra;
  return testing::loadConfig(yaml);
}

// Runs the io_context until `done()` holds or 5 s of wall time passed.
template <class Done>
bool runUntil(asio::io_context& io, Done done) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < limit) {
    io.run_for(std::chrono::milliseconds(10));
  }
  return done();
}

struct Harness {
  explicit Harness(const std::string& extra)
      : server(io),
        config(configFor(server.port(), extra)),
        pools(std::make_shared<UpstreamPools>(config, std::chrono::steady_clock::now(), 7)),
        pool(io.get_executor(), metrics),
        monitor(
            io.get_executor(), pool, [this] { return pools; },
            [this](const config::UpstreamConfig&, size_t, bool healthy) {
              changes.push_back(healthy);
            }) {
    asio::co_spawn(io, server.serve(), DetachedCompletion("fake server"));
    asio::co_spawn(io, monitor.run(), DetachedCompletion("monitor"));
  }

  ~Harness() {
    monitor.stop();
    server.acceptor.close();
    io.run_for(std::chrono::milliseconds(50));
  }

  const EndpointState& endpoint() { return pools->pool(0).endpoints.endpoint(0); }

  asio::io_context io;
  FakeServer server;
  config::Config config;
  std::shared_ptr<UpstreamPools> pools;
  WorkerMetrics metrics;
  UpstreamPool pool;
  PoolMonitor monitor;
  std::vector<bool> changes;
};

TEST(PoolMonitor, FailedChecksMarkAnEndpointUnhealthyAndPassedOnesBringItBack) {
  Harness h(
      "    health: {path: /health, interval_ms: 100, unhealthy_after: 2, healthy_after: 2}\n");
  h.server.health_status = 503;
  ASSERT_TRUE(runUntil(h.io, [&] { return !h.endpoint().health.healthy(); }));
  EXPECT_GE(h.server.health_requests, 2);
  // The probe carries the endpoint's injected headers under its base path.
  EXPECT_NE(h.server.last_head.find("authorization: Bearer probe"), std::string::npos);
  h.server.health_status = 200;
  ASSERT_TRUE(runUntil(h.io, [&] { return h.endpoint().health.healthy(); }));
  EXPECT_EQ(h.changes, (std::vector<bool>{false, true}));
}

TEST(PoolMonitor, AnUnreachableEndpointFailsItsChecks) {
  Harness h("    health: {path: /health, interval_ms: 100, timeout_ms: 200, unhealthy_after: 1}\n");
  h.server.acceptor.close();
  ASSERT_TRUE(runUntil(h.io, [&] { return !h.endpoint().health.healthy(); }));
}

TEST(PoolMonitor, TheVllmScrapeFeedsTheEndpointsLoadSample) {
  Harness h("    load_signal: {kind: vllm, interval_ms: 100}\n");
  h.server.metrics =
      "vllm:num_requests_waiting{engine=\"0\"} 9\nvllm:gpu_cache_usage_perc{engine=\"0\"} 0.5\n";
  ASSERT_TRUE(runUntil(h.io, [&] { return h.endpoint().load.requests_waiting == 9.0; }));
  EXPECT_DOUBLE_EQ(h.endpoint().load.kv_cache_usage, 0.5);
  EXPECT_TRUE(h.endpoint().load.fresh(std::chrono::steady_clock::now()));
}

}  // namespace
}  // namespace tollgate::gateway
