#include "gateway/upstream/endpoint_probe.h"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "gateway/http/http_head.h"

namespace tollgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

template <class AsyncStream>
Awaitable<ProbeResult> exchange(AsyncStream& stream, UpstreamConnection& conn,
                                const std::string& request, size_t body_limit, bool& reusable) {
  ProbeResult result;
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(request), kNoThrow);
  (void)written;
  if (wec) {
    result.detail = "write: " + wec.message();
    co_return result;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  auto [rec, read] = co_await http::async_read(stream, conn.buffer, parser, kNoThrow);
  (void)read;
  if (rec) {
    result.detail = "read: " + rec.message();
    co_return result;
  }
  result.answered = true;
  result.status = parser.get().result_int();
  result.body = std::move(parser.get().body());
  reusable = parser.get().keep_alive();
  co_return result;
}

}  // namespace

Awaitable<ProbeResult> probeEndpoint(UpstreamPool& pool, const config::UpstreamConfig& endpoint,
                                     std::string_view path, std::chrono::milliseconds timeout,
                                     size_t body_limit) {
  auto acquired = co_await pool.acquire(endpoint, timeout);
  if (!acquired.connection) co_return ProbeResult{false, 0, {}, "connect: " + acquired.detail};
  auto conn = std::move(acquired.connection);
  std::string request;
  appendRequestLine("GET", endpoint.base_path, path, {}, request);
  appendField("Host", endpoint.host_header, request);
  for (const auto& [name, value] : endpoint.headers) appendField(name, value, request);
  appendField("Accept-Encoding", "identity", request);
  request.append("\r\n");
  // Probes are rare (one per endpoint and interval): the stream's own timer is cheap enough.
  conn->tcp().expires_after(timeout);
  bool reusable = false;
  ProbeResult result;
  if (auto* plain = std::get_if<UpstreamConnection::Plain>(&conn->stream)) {
    result = co_await exchange(*plain, *conn, request, body_limit, reusable);
  } else {
    auto& tls = std::get<UpstreamConnection::Tls>(conn->stream);
    result = co_await exchange(tls, *conn, request, body_limit, reusable);
  }
  conn->tcp().expires_never();
  if (reusable) pool.release(std::move(conn), endpoint);
  co_return result;
}

}  // namespace tollgate::gateway
