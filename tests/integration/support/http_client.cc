#include "tests/integration/support/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace tollgate::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::string host;
  unsigned short port;

  void connect() {
    buffer.clear();
    beast::error_code ec;
    stream.socket().close(ec);
    stream.connect(tcp::endpoint(asio::ip::make_address(host), port));
  }

  template <class Body>
  HttpResponse read(std::chrono::milliseconds timeout) {
    HttpResponse out;
    http::response_parser<Body> parser;
    parser.body_limit(boost::none);
    stream.expires_after(timeout);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    const auto& msg = parser.get();
    if (parser.is_header_done()) {
      out.status = static_cast<int>(msg.result_int());
      for (const auto& f : msg) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(f.value());
      }
      out.body = msg.body();
    }
    out.complete = !ec && parser.is_done();
    if (ec) out.error = ec.message();
    if (ec || !msg.keep_alive()) {
      beast::error_code ignored;
      stream.socket().close(ignored);
    }
    return out;
  }

  HttpResponse exchange(http::verb verb, const std::string& target, const std::string& body,
                        const Headers& headers, std::chrono::milliseconds timeout) {
    if (!stream.socket().is_open()) connect();
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, host + ":" + std::to_string(port));
    if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    beast::error_code ec;
    stream.expires_after(timeout);
    http::write(stream, req, ec);
    if (ec) {
      HttpResponse out;
      out.error = ec.message();
      return out;
    }
    return read<http::string_body>(timeout);
  }
};

HttpClient::HttpClient(const std::string& host, unsigned short port)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = host;
  impl_->port = port;
  impl_->connect();
}

HttpClient::~HttpClient() = default;

bool HttpClient::connected() const { return impl_->stream.socket().is_open(); }

HttpResponse HttpClient::post(const std::string& target, const std::string& body,
                              const Headers& headers, std::chrono::milliseconds timeout) {
  return impl_->exchange(http::verb::post, target, body, headers, timeout);
}

HttpResponse HttpClient::get(const std::string& target, std::chrono::milliseconds timeout) {
  return impl_->exchange(http::verb::get, target, "", {}, timeout);
}

HttpResponse HttpClient::postAndLeave(const std::string& target, const std::string& body,
                                      size_t body_bytes, const Headers& headers) {
  auto& s = *impl_;
  if (!s.stream.socket().is_open()) s.connect();
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, s.host);
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(s.stream, req);
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);
  s.stream.expires_after(std::chrono::seconds(30));
  http::read_header(s.stream, s.buffer, parser);
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  beast::error_code ec;
  while (!parser.is_done() && parser.get().body().size() < body_bytes) {
    http::read_some(s.stream, s.buffer, parser, ec);
    if (ec) break;
  }
  out.body = parser.get().body();
  // Leave without a goodbye: an RST, as a killed client would.
  s.stream.socket().set_option(asio::socket_base::linger(true, 0), ec);
  s.stream.socket().close(ec);
  return out;
}

std::string HttpClient::raw(const std::string& bytes, std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  if (!s.stream.socket().is_open()) s.connect();
  beast::error_code ec;
  s.stream.expires_after(timeout);
  asio::write(s.stream, asio::buffer(bytes), ec);
  std::string out(static_cast<const char*>(s.buffer.data().data()), s.buffer.size());
  s.buffer.clear();
  char buf[4096];
  for (;;) {
    const size_t n = s.stream.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  s.stream.socket().close(ec);
  return out;
}

}  // namespace tollgate::testing
