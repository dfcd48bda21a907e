#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "config/config.h"
#include "gateway/io.h"
#include "gateway/metrics.h"

namespace tollgate::gateway {

// One connection to an upstream, plain or TLS, with its read buffer (bytes read past the end of a
// response stay with the connection).
struct UpstreamConnection {
  using Plain = Stream;
  using Tls = boost::beast::ssl_stream<Stream>;

  // Reads start with room for a typical response head and body: a 512-byte first read (Beast's
  // default) splits most answers into several reads and writes.
  static constexpr size_t kReadBuffer = 16 * 1024;
  explicit UpstreamConnection(Plain plain) : stream(std::move(plain)) { buffer.reserve(kReadBuffer); }
  explicit UpstreamConnection(Tls tls) : stream(std::move(tls)) { buffer.reserve(kReadBuffer); }

  Stream& tcp() {
    if (auto* p = std::get_if<Plain>(&stream)) return *p;
    return std::get<Tls>(stream).next_layer();
  }

  std::variant<Plain, Tls> stream;
  boost::beast::flat_buffer buffer;
  std::string upstream_name;
  bool reused = false;  // came from the idle pool (may have been closed by the peer meanwhile)
  std::chrono::steady_clock::time_point idle_since;
};

enum class ConnectFailure { kNone, kResolve, kRefused, kTimeout, kTls };

struct AcquireResult {
  std::unique_ptr<UpstreamConnection> connection;  // null on failure
  ConnectFailure failure = ConnectFailure::kNone;
  std::string detail;  // for logs; never shown to clients
};

// A worker's keep-alive pool of upstream connections, by upstream name. Lives on one worker's
// io_context and is only touched by that thread: no locks.
class UpstreamPool {
 public:
  UpstreamPool(Executor executor, WorkerMetrics& metrics);

  // A live idle connection to `upstream`, else a new one (resolve, connect, TLS handshake with
  // certificate and host-name verification), all within `connect_timeout`.
  Awaitable<AcquireResult> acquire(const config::UpstreamConfig& upstream,
                                                std::chrono::milliseconds connect_timeout,
                                                bool allow_reuse = true);

  // Returns a connection whose last response was read completely and that may be kept alive.
  void release(std::unique_ptr<UpstreamConnection> connection,
               const config::UpstreamConfig& upstream);

  // Closes every idle connection (shutdown).
  void closeAll();

  size_t idleCount() const;

 private:
  struct PerUpstream {
    std::unique_ptr<boost::asio::ssl::context> tls;
    std::vector<std::unique_ptr<UpstreamConnection>> idle;
  };

  PerUpstream& slot(const config::UpstreamConfig& upstream);
  boost::asio::ssl::context& tlsContext(PerUpstream& slot, const config::UpstreamConfig& upstream);

  Executor executor_;
  WorkerMetrics& metrics_;
  std::unordered_map<std::string, PerUpstream> upstreams_;
};

}  // namespace tollgate::gateway
