#include "gateway/upstream/upstream_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>
#include <unordered_set>

#include "gateway/upstream/upstream_tls_context.h"

namespace tollgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// Bytes the TLS layer holds past the response: decrypted and not handed out (SSL_pending), or
// read from the socket and not yet decrypted (the engine's input BIO).
size_t tlsPending(UpstreamConnection& c) {
  auto* tls = std::get_if<UpstreamConnection::Tls>(&c.stream);
  if (tls == nullptr) return 0;
  SSL* ssl = tls->native_handle();
  const int decrypted = SSL_pending(ssl);
  const size_t raw = BIO_ctrl_pending(SSL_get_rbio(ssl));
  return (decrypted > 0 ? static_cast<size_t>(decrypted) : 0) + raw;
}

// An idle keep-alive connection is usable when the peer has neither closed it nor sent bytes
// nobody asked for. Checked on every reuse, however recent the last call: one non-blocking
// recv(MSG_PEEK), far cheaper than a call answered from the previous caller's leftovers.
bool stillUsable(UpstreamConnection& c) {
  auto& socket = c.tcp().socket();
  if (!socket.is_open() || c.buffer.size() > 0 || tlsPending(c) > 0) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;  // orderly close by the upstream
  if (n > 0) return false;   // unsolicited bytes: the framing is unknown, do not reuse
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

// Hand-built configurations (tests, benchmarks) carry no precomputed identity.
std::string endpointKey(const config::UpstreamConfig& upstream) {
  return upstream.endpoint_id.empty() ? config::endpointIdentity(upstream) : upstream.endpoint_id;
}

// A name resolution that the caller stops waiting for at its deadline. getaddrinfo runs on
// Asio's resolver thread and cannot be interrupted: when the deadline passes first, the
// coroutine goes on and this state lives until the lookup returns.
struct PendingResolve {
  using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                           asio::wait_traits<std::chrono::steady_clock>, Executor>;
  explicit PendingResolve(const Executor& executor) : resolver(executor), timer(executor) {}
  Resolver resolver;
  Timer timer;
  boost::system::error_code ec;
  Resolver::results_type results;
  bool done = false;
};

}  // namespace

UpstreamPool::UpstreamPool(Executor executor, WorkerMetrics& metrics, RateLimitedLog* warnings)
    : executor_(std::move(executor)),
      metrics_(metrics),
      warnings_(warnings),
      sweep_timer_(executor_) {}

UpstreamPool::Endpoint& UpstreamPool::endpoint(const config::UpstreamConfig& upstream) {
  if (upstream.endpoint_id.empty()) return endpoints_[endpointKey(upstream)];
  // An identity is a few hundred bytes: hashing it twice a call cost more than the rest of the
  // pool. Calls mostly repeat the last endpoint, and comparing with it is a memcmp.
  if (last_endpoint_ != nullptr && last_id_ == upstream.endpoint_id) return *last_endpoint_;
  last_endpoint_ = &endpoints_[upstream.endpoint_id];  // entries are never erased
  last_id_ = upstream.endpoint_id;
  return *last_endpoint_;
}

Awaitable<AcquireResult> UpstreamPool::acquire(const config::UpstreamConfig& upstream,
                                               std::chrono::milliseconds connect_timeout,
                                               bool allow_reuse) {
  auto& ep = endpoint(upstream);  // entries are never erased: the reference stays valid
  const auto now = Clock::now();
  while (allow_reuse && !ep.idle.empty()) {
    auto c = std::move(ep.idle.back());
    ep.idle.pop_back();
    if (now >= c->idle_deadline) {
      metrics_.add(metrics_.pool_expired);
      continue;
    }
    if (!stillUsable(*c)) {
      metrics_.add(metrics_.pool_probe_discarded);
      continue;
    }
    c->reused = true;
    metrics_.add(metrics_.pool_reused);
    AcquireResult reused;
    reused.connection = std::move(c);
    co_return reused;
  }

  AcquireResult result;
  const auto deadline = now + connect_timeout;
  std::vector<tcp::endpoint> endpoints;
  boost::system::error_code not_numeric;
  const auto address = asio::ip::make_address(upstream.host, not_numeric);
  if (!not_numeric) {
    // An IP address needs no lookup, and must not wait behind one: the resolver runs every
    // lookup of the worker on one thread.
    endpoints.emplace_back(address, upstream.port);
  } else {
    auto pending = std::make_shared<PendingResolve>(executor_);
    pending->timer.expires_at(deadline);
    pending->resolver.async_resolve(
        upstream.host, std::to_string(upstream.port),
        [pending](const boost::system::error_code& ec, Resolver::results_type results) {
          pending->ec = ec;
          pending->results = std::move(results);
          pending->done = true;
          pending->timer.cancel();
        });
    co_await pending->timer.async_wait(kNoThrow);
    if (!pending->done) {
      pending->resolver.cancel();
      result.failure = ConnectFailure::kTimeout;
      result.detail =
          "name resolution of '" + upstream.host + "' took longer than the connect timeout";
      co_return result;
    }
    if (pending->ec) {
      result.failure = ConnectFailure::kResolve;
      result.detail = pending->ec.message();
      co_return result;
    }
    for (const auto& entry : pending->results) endpoints.push_back(entry.endpoint());
  }
  Stream tcp_stream(executor_);
  tcp_stream.expires_at(deadline);
  auto [cec, connected] = co_await tcp_stream.async_connect(endpoints, kNoThrowAwaitable);
  if (cec) {
    result.failure =
        cec == beast::error::timeout ? ConnectFailure::kTimeout : ConnectFailure::kRefused;
    result.detail = cec.message();
    co_return result;
  }
  tcp_stream.socket().set_option(tcp::no_delay(true));
  metrics_.add(metrics_.pool_connected);

  if (upstream.scheme != "https") {
    tcp_stream.expires_never();
    auto c = std::make_unique<UpstreamConnection>(std::move(tcp_stream));
    result.connection = std::move(c);
    co_return result;
  }

  // A reload while this call was connecting may have retired the endpoint and its context.
  if (!ep.tls) {
    std::string error;
    ep.tls = makeUpstreamTlsContext(upstream.tls, error);
    if (!ep.tls) {
      result.failure = ConnectFailure::kTls;
      result.detail = "tls.ca_file: " + error;
      co_return result;
    }
  }
  // The handshake runs under the deadline set before the connect: one budget for all three.
  UpstreamConnection::Tls tls(std::move(tcp_stream), *ep.tls);
  const std::string& server_name =
      upstream.tls.server_name.empty() ? upstream.host : upstream.tls.server_name;
  if (!SSL_set_tlsext_host_name(tls.native_handle(), server_name.c_str())) {
    result.failure = ConnectFailure::kTls;
    result.detail = "cannot set SNI";
    co_return result;
  }
  if (upstream.tls.verify) tls.set_verify_callback(ssl::host_name_verification(server_name));
  auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kNoThrowAwaitable);
  if (hec) {
    result.failure = hec == beast::error::timeout ? ConnectFailure::kTimeout : ConnectFailure::kTls;
    result.detail = hec.message();
    co_return result;
  }
  beast::get_lowest_layer(tls).expires_never();
  auto c = std::make_unique<UpstreamConnection>(std::move(tls));
  result.connection = std::move(c);
  co_return result;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection,
                           const config::UpstreamConfig& upstream) {
  if (const size_t unread = connection->buffer.size() + tlsPending(*connection); unread > 0) {
    metrics_.add(metrics_.pool_unread_discarded);
    if (warnings_) {
      warnings_->warn("pool_unread_bytes",
                      "upstream connection closed, not pooled: {} byte(s) after the response "
                      "upstream={}",
                      unread, upstream.name);
    }
    return;  // closes it
  }
  auto& ep = endpoint(upstream);
  if (ep.retired) {
    metrics_.add(metrics_.pool_endpoint_retired);
    return;  // closes it
  }
  if (ep.idle.size() >= upstream.max_idle_connections) return;  // closes it
  connection->tcp().expires_never();
  connection->idle_since = Clock::now();
  connection->idle_deadline = connection->idle_since + upstream.idle_keepalive;
  scheduleSweep(connection->idle_deadline);
  ep.idle.push_back(std::move(connection));
}

void UpstreamPool::scheduleSweep(Clock::time_point when) {
  if (sweep_armed_ && sweep_at_ <= when) return;
  // Re-arming cancels the wait in progress: its handler sees operation_aborted and does nothing.
  sweep_armed_ = true;
  sweep_at_ = when;
  sweep_timer_.expires_at(when);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    sweep_armed_ = false;
    sweepExpired();
  });
}

void UpstreamPool::sweepExpired() {
  const auto now = Clock::now();
  std::optional<Clock::time_point> next;
  for (auto& [key, ep] : endpoints_) {
    const auto before = ep.idle.size();
    std::erase_if(ep.idle, [&](const auto& c) { return now >= c->idle_deadline; });
    metrics_.add(metrics_.pool_expired, before - ep.idle.size());
    for (const auto& c : ep.idle) {
      if (!next || c->idle_deadline < *next) next = c->idle_deadline;
    }
  }
  if (next) scheduleSweep(*next);
}

void UpstreamPool::retainEndpointsOf(const config::Config& config) {
  std::unordered_set<std::string> current;
  for (const auto& upstream : config.upstreams) {
    current.insert(endpointKey(upstream));
    for (const auto& endpoint : upstream.endpoints) current.insert(endpoint.endpoint_id);
  }
  // Retired entries stay (one per endpoint ever configured, a handful) so that a call in flight
  // on the old snapshot finds the mark at release; a later reload may bring one back.
  for (auto& [key, ep] : endpoints_) {
    ep.retired = !current.contains(key);
    if (!ep.retired) continue;
    metrics_.add(metrics_.pool_endpoint_retired, ep.idle.size());
    ep.idle.clear();
    ep.tls.reset();
  }
}

}  // namespace tollgate::gateway
