#include "ledger/webhook_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tollgate::ledger {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

bool postWebhook(const std::string& url, const std::string& content_type, const std::string& body,
                 std::chrono::milliseconds timeout, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    error = "only http:// webhooks are supported by the ledger (got " + url + ")";
    return false;
  }
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority, port = "80";
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
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, authority);
  req.set(http::field::content_type, content_type);
  req.set(http::field::user_agent, "tollgate-ledger");
  req.body() = body;
  req.prepare_payload();
  stream.expires_after(timeout);
  http::write(stream, req, ec);
  if (ec) {
    error = "send to " + url + ": " + ec.message();
    return false;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  stream.expires_after(timeout);
  http::read(stream, buffer, res, ec);
  if (ec) {
    error = "answer from " + url + ": " + ec.message();
    return false;
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  if (res.result_int() < 200 || res.result_int() > 299) {
    error = url + " answered " + std::to_string(res.result_int());
    return false;
  }
  return true;
}

}  // namespace tollgate::ledger
