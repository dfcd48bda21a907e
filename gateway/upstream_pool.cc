#include "gateway/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

namespace tollgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr std::chrono::seconds kTrustIdleFor{1};

// An idle keep-alive connection is usable when the peer has neither closed it nor sent bytes
// nobody asked for. Checked without blocking.
bool stillUsable(UpstreamConnection& c) {
  auto& socket = c.tcp().socket();
  if (!socket.is_open()) return false;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return false;  // orderly close by the upstream
  if (n > 0) return false;   // unsolicited bytes: the framing is unknown, do not reuse
  return errno == EAGAIN || errno == EWOULDBLOCK;
}

}  // namespace

UpstreamPool::UpstreamPool(Executor executor, WorkerMetrics& metrics)
    : executor_(std::move(executor)), metrics_(metrics) {}

UpstreamPool::PerUpstream& UpstreamPool::slot(const config::UpstreamConfig& upstream) {
  return upstreams_[upstream.name];
}

ssl::context& UpstreamPool::tlsContext(PerUpstream& s, const config::UpstreamConfig& upstream) {
  if (!s.tls) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (!upstream.tls.ca_file.empty()) ctx->load_verify_file(upstream.tls.ca_file, ec);
    ctx->set_verify_mode(upstream.tls.verify ? ssl::verify_peer : ssl::verify_none);
    s.tls = std::move(ctx);
  }
  return *s.tls;
}

Awaitable<AcquireResult> UpstreamPool::acquire(const config::UpstreamConfig& upstream,
                                                     std::chrono::milliseconds connect_timeout,
                                                     bool allow_reuse) {
  auto& s = slot(upstream);
  while (allow_reuse && !s.idle.empty()) {
    auto c = std::move(s.idle.back());
    s.idle.pop_back();
    // A connection used moments ago is taken as is (a closed one costs one retry on a fresh
    // connection, see DownstreamSession::forward); an older one is checked first.
    const bool recent = std::chrono::steady_clock::now() - c->idle_since < kTrustIdleFor;
    if (recent || stillUsable(*c)) {
      c->reused = true;
      metrics_.add(metrics_.pool_reused);
      AcquireResult reused;
      reused.connection = std::move(c);
      co_return reused;
    }
  }

  AcquireResult result;
  Resolver resolver(executor_);
  const std::string port = std::to_string(upstream.port);
  auto [rec, endpoints] = co_await resolver.async_resolve(upstream.host, port, kNoThrow);
  if (rec) {
    result.failure = ConnectFailure::kResolve;
    result.detail = rec.message();
    co_return result;
  }
  Stream tcp_stream(executor_);
  tcp_stream.expires_after(connect_timeout);
  auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
  if (cec) {
    result.failure = cec == beast::error::timeout ? ConnectFailure::kTimeout
                                                   : ConnectFailure::kRefused;
    result.detail = cec.message();
    co_return result;
  }
  tcp_stream.socket().set_option(tcp::no_delay(true));
  metrics_.add(metrics_.pool_connected);

  if (upstream.scheme != "https") {
    tcp_stream.expires_never();
    auto c = std::make_unique<UpstreamConnection>(std::move(tcp_stream));
    c->upstream_name = upstream.name;
    result.connection = std::move(c);
    co_return result;
  }

  UpstreamConnection::Tls tls(std::move(tcp_stream), tlsContext(s, upstream));
  const std::string& server_name =
      upstream.tls.server_name.empty() ? upstream.host : upstream.tls.server_name;
  if (!SSL_set_tlsext_host_name(tls.native_handle(), server_name.c_str())) {
    result.failure = ConnectFailure::kTls;
    result.detail = "cannot set SNI";
    co_return result;
  }
  if (upstream.tls.verify) tls.set_verify_callback(ssl::host_name_verification(server_name));
  auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kNoThrow);
  if (hec) {
    result.failure = hec == beast::error::timeout ? ConnectFailure::kTimeout : ConnectFailure::kTls;
    result.detail = hec.message();
    co_return result;
  }
  beast::get_lowest_layer(tls).expires_never();
  auto c = std::make_unique<UpstreamConnection>(std::move(tls));
  c->upstream_name = upstream.name;
  result.connection = std::move(c);
  co_return result;
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection,
                           const config::UpstreamConfig& upstream) {
  auto& s = slot(upstream);
  if (s.idle.size() >= upstream.max_idle_connections) return;  // closes it
  connection->tcp().expires_never();
  connection->idle_since = std::chrono::steady_clock::now();
  s.idle.push_back(std::move(connection));
}

void UpstreamPool::closeAll() {
  for (auto& [name, s] : upstreams_) s.idle.clear();
}

size_t UpstreamPool::idleCount() const {
  size_t n = 0;
  for (const auto& [name, s] : upstreams_) n += s.idle.size();
  return n;
}

}  // namespace tollgate::gateway
