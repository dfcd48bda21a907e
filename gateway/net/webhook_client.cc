#include "gateway/net/webhook_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace tollgate::net {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// Writes the request and reads the answer on a connected stream (plain or TLS).
template <class Stream>
bool exchange(Stream& stream, beast::tcp_stream& tcp_layer, const std::string& url,
              const std::string& authority, const std::string& target,
              const std::string& content_type, const std::string& body,
              std::chrono::milliseconds timeout, std::string& error) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, authority);
  req.set(http::field::content_type, content_type);
  req.set(http::field::user_agent, "tollgate");
  req.body() = body;
  req.prepare_payload();
  beast::error_code ec;
  tcp_layer.expires_after(timeout);
  http::write(stream, req, ec);
  if (ec) {
    error = "send to " + url + ": " + ec.message();
    return false;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  tcp_layer.expires_after(timeout);
  http::read(stream, buffer, res, ec);
  if (ec) {
    error = "answer from " + url + ": " + ec.message();
    return false;
  }
  if (res.result_int() < 200 || res.result_int() > 299) {
    error = url + " answered " + std::to_string(res.result_int());
    return false;
  }
  return true;
}

}  // namespace

bool postWebhook(const std::string& url, const std::string& content_type, const std::string& body,
                 std::chrono::milliseconds timeout, std::string& error) {
  bool tls = false;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    error = "a webhook URL must start with http:// or https:// (got " + url + ")";
    return false;
  }
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority;
  std::string port = tls ? "443" : "80";
  if (const size_t colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']') == std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  boost::asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    error = "resolve " + authority + ": " + ec.message();
    return false;
  }
  stream.expires_after(timeout);
  stream.connect(endpoints, ec);
  if (ec) {
    error = "connect " + authority + ": " + ec.message();
    return false;
  }
  if (!tls) {
    const bool ok =
        exchange(stream, stream, url, authority, target, content_type, body, timeout, error);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return ok;
  }
  // The system's CA store (SSL_CERT_FILE / SSL_CERT_DIR override it, as for every OpenSSL
  // client); the certificate must name the host.
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_default_verify_paths(ec);
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream&> secure(stream, ctx);
  if (!SSL_set_tlsext_host_name(secure.native_handle(), host.c_str())) {
    error = "TLS to " + authority + ": cannot set the server name";
    return false;
  }
  secure.set_verify_callback(ssl::host_name_verification(host));
  stream.expires_after(timeout);
  secure.handshake(ssl::stream_base::client, ec);
  if (ec) {
    error = "TLS handshake with " + authority + ": " + ec.message();
    return false;
  }
  const bool ok =
      exchange(secure, stream, url, authority, target, content_type, body, timeout, error);
  secure.shutdown(ec);  // close_notify; a peer that just closes is fine too
  return ok;
}

}  // namespace tollgate::net
