#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "config/config.h"
#include "gateway/core/io.h"
#include "gateway/core/rate_limited_log.h"
#include "gateway/core/worker_metrics.h"

namespace tollgate::gateway {

// One connection to an upstream, plain or TLS, with its read buffer (bytes read past the end of a
// response stay with the connection).
struct UpstreamConnection {
  using Plain = Stream;
  using Tls = boost::beast::ssl_stream<Stream>;

  // Reads start with room for a typical response head and body: a 512-byte first read (Beast's
  // default) splits most answers into several reads and writes.
  static constexpr size_t kReadBuffer = 16 * 1024;
  explicit UpstreamConnection(Plain plain) : stream(std::move(plain)) {
    buffer.reserve(kReadBuffer);
  }
  explicit UpstreamConnection(Tls tls) : stream(std::move(tls)) { buffer.reserve(kReadBuffer); }

  Stream& tcp() {
    if (auto* p = std::get_if<Plain>(&stream)) return *p;
    return std::get<Tls>(stream).next_layer();
  }

  std::variant<Plain, Tls> stream;
  boost::beast::flat_buffer buffer;
  bool reused = false;  // came from the idle pool (may have been closed by the peer meanwhile)
  std::chrono::steady_clock::time_point idle_since;
  std::chrono::steady_clock::time_point idle_deadline;  // closed, never reused, from then on
};

enum class ConnectFailure { kNone, kResolve, kRefused, kTimeout, kTls };

struct AcquireResult {
  std::unique_ptr<UpstreamConnection> connection;  // null on failure
  ConnectFailure failure = ConnectFailure::kNone;
  std::string detail;  // for logs; never shown to clients
};

// A worker's keep-alive pool of upstream connections and TLS contexts, keyed by endpoint
// identity (UpstreamConfig::endpoint_id: scheme, host, port, TLS settings, injected headers), not
// by upstream name: a reload that changes any of them never reuses an old connection or TLS
// context. Lives on one worker's io_context and is only touched by that thread: no locks.
class UpstreamPool {
 public:
  using Clock = std::chrono::steady_clock;

  // `warnings`, when given, takes the pool's data-plane warnings (rate limited).
  UpstreamPool(Executor executor, WorkerMetrics& metrics, RateLimitedLog* warnings = nullptr);

  // A live idle connection to `upstream`'s endpoint (every one is probed first: one
  // non-blocking recv), else a new one: name resolution, connect and TLS handshake (certificate
  // and host-name verification) all within `connect_timeout` together.
  Awaitable<AcquireResult> acquire(const config::UpstreamConfig& upstream,
                                   std::chrono::milliseconds connect_timeout,
                                   bool allow_reuse = true);

  // Returns a connection whose last response was read completely and that may be kept alive.
  // One holding bytes past that response (in its read buffer or TLS layer) is closed instead:
  // those bytes would be read as the next caller's answer. Idle connections are closed after
  // the upstream's idle_keepalive_ms.
  void release(std::unique_ptr<UpstreamConnection> connection,
               const config::UpstreamConfig& upstream);

  // After a reload: closes the idle connections, and drops the TLS contexts, of every endpoint
  // `config` no longer names. A call still in flight to such an endpoint (on the old snapshot)
  // gets its connection closed at release, not pooled.
  void retainEndpointsOf(const config::Config& config);

 private:
  using Timer = boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Executor>;

  struct Endpoint {
    std::unique_ptr<boost::asio::ssl::context> tls;
    std::vector<std::unique_ptr<UpstreamConnection>> idle;  // oldest first
    bool retired = false;  // no longer configured: nothing is pooled for it
  };

  Endpoint& endpoint(const config::UpstreamConfig& upstream);
  void scheduleSweep(Clock::time_point when);
  void sweepExpired();

  Executor executor_;
  WorkerMetrics& metrics_;
  RateLimitedLog* warnings_;
  std::unordered_map<std::string, Endpoint> endpoints_;
  std::string last_id_;                // the identity looked up last
  Endpoint* last_endpoint_ = nullptr;  // its entry
  Timer sweep_timer_;
  bool sweep_armed_ = false;
  Clock::time_point sweep_at_;
};

}  // namespace tollgate::gateway
