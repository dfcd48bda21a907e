#include "loadtest/mock/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "loadtest/mock/call_log.h"
#include "loadtest/mock/response_plan.h"

namespace tollgate::loadtest {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
constexpr uint64_t kBodyLimit = 64 * 1024 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);
constexpr std::string_view kMockPrefix = "x-mock-";

struct Shared {
  const ServerOptions& options;
  CallLog log;
};

// What a handled request leaves the connection fit for.
enum class After { kKeepAlive, kCloseGracefully, kClosed };

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string responseHead(int status, std::string_view content_type, bool close) {
  std::string head = "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += http::obsolete_reason(static_cast<http::status>(status));
  head += "\r\nContent-Type: ";
  head += content_type;
  head += "\r\n";
  if (close) head += "Connection: close\r\n";
  return head;
}

std::string fixedHead(int status, std::string_view content_type, size_t length, bool close) {
  std::string head = responseHead(status, content_type, close);
  head += "Content-Length: ";
  head += std::to_string(length);
  head += "\r\n\r\n";
  return head;
}

void appendChunk(std::string& out, std::string_view data) {
  char size[20];
  const auto result = std::to_chars(size, size + sizeof(size), data.size(), 16);
  out.append(size, result.ptr);
  out += "\r\n";
  out += data;
  out += "\r\n";
}

template <class Stream>
tcp::socket& socketOf(Stream& stream) {
  return beast::get_lowest_layer(stream);
}

// Runs `operation` (made with kUseTuple); closes the socket if it outlasts `timeout`, which also
// ends an operation that ignores cancellation. Returns false when it failed or timed out.
template <class Stream>
net::awaitable<bool> withTimeout(Stream& stream,
                                 net::awaitable<std::tuple<beast::error_code>> operation,
                                 std::chrono::steady_clock::duration timeout) {
  using namespace net::experimental::awaitable_operators;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(timeout);
  auto watchdog = [](net::steady_timer& t, tcp::socket& socket) -> net::awaitable<void> {
    auto [ec] = co_await t.async_wait(kUseTuple);
    if (ec) co_return;
    beast::error_code ignored;
    socket.close(ignored);
  };
  auto result = co_await (std::move(operation) || watchdog(timer, socketOf(stream)));
  co_return result.index() == 0 && !std::get<0>(std::get<0>(result));
}

// FIN without any further byte (for TLS also without close_notify): what a dying upstream does.
template <class Stream>
void closeAbruptly(Stream& stream) {
  beast::error_code ignored;
  socketOf(stream).shutdown(tcp::socket::shutdown_both, ignored);
  socketOf(stream).close(ignored);
}

template <class Stream>
net::awaitable<void> closeGracefully(Stream& stream) {
  if constexpr (!std::is_same_v<Stream, tcp::socket>) {
    co_await withTimeout(stream, stream.async_shutdown(kUseTuple), kTlsShutdownTimeout);
  }
  beast::error_code ignored;
  socketOf(stream).shutdown(tcp::socket::shutdown_send, ignored);
  socketOf(stream).close(ignored);
}

template <class Stream>
net::awaitable<bool> writeAll(Stream& stream, std::string_view data) {
  auto [ec, written] = co_await net::async_write(stream, net::buffer(data), kUseTuple);
  co_return !ec;
}

net::awaitable<void> sleepMs(int64_t ms) {
  if (ms <= 0) co_return;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ms));
  co_await timer.async_wait(kUseTuple);
}

// x-mock-stall: say nothing, keep reading (and dropping) until the peer gives up.
template <class Stream>
net::awaitable<void> stallUntilPeerCloses(Stream& stream) {
  char sink[4096];
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), kUseTuple);
    if (ec) break;
  }
  closeAbruptly(stream);
}

// Per-request state of one provider call.
struct Call {
  uint64_t seq = 0;
  bool recorded = false;
};

template <class Stream>
net::awaitable<After> sendFixed(Stream& stream, Shared& shared, const Call& call,
                                const ResponsePlan& plan, const Behaviour& b, bool close) {
  std::string out = fixedHead(plan.status, plan.content_type, plan.body.size(), close);
  if (plan.status == 200 && b.cut_after >= 0) {
    out.append(plan.body, 0, plan.body.size() / 2);
    const bool written = co_await writeAll(stream, out);
    (void)written;
    if (call.recorded) shared.log.finish(call.seq, plan.status, false, false);
    closeAbruptly(stream);
    co_return After::kClosed;
  }
  out += plan.body;
  // Marked before the write: a client that has read the answer must find the record final.
  if (call.recorded) shared.log.finish(call.seq, plan.status, plan.body_carries_usage, true);
  if (!co_await writeAll(stream, out)) {
    if (call.recorded) shared.log.finish(call.seq, plan.status, false, false);
    co_return After::kClosed;
  }
  co_return close ? After::kCloseGracefully : After::kKeepAlive;
}

template <class Stream>
net::awaitable<After> sendStream(Stream& stream, Shared& shared, const Call& call,
                                 const ResponsePlan& plan, const Behaviour& b, bool close) {
  const auto& events = plan.events;
  // Where a cut or an in-stream error happens: before the first tail event, or before the
  // content event after the N-th. The smaller of the two knobs wins.
  const bool cut =
      b.cut_after >= 0 && (b.error_mid_stream < 0 || b.cut_after <= b.error_mid_stream);
  const int64_t trigger = cut ? b.cut_after : b.error_mid_stream;
  size_t limit = events.size();
  if (trigger >= 0) {
    int64_t content_seen = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const EventKind kind = events[i].kind;
      if (kind == EventKind::kTail || (kind == EventKind::kContent && content_seen == trigger)) {
        limit = i;
        break;
      }
      if (kind == EventKind::kContent) ++content_seen;
    }
  }

  std::string out = responseHead(200, plan.content_type, close);
  out += "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
  bool usage_sent = false;
  auto fail = [&]() {
    if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, false);
    return After::kClosed;
  };
  for (size_t i = 0; i < limit; ++i) {
    if (i > 0) co_await sleepMs(b.chunk_delay_ms);
    appendChunk(out, events[i].bytes);
    usage_sent = usage_sent || events[i].carries_usage;
    if (trigger < 0 && i + 1 == events.size()) {
      out += "0\r\n\r\n";
      if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, true);
    }
    if (!co_await writeAll(stream, out)) co_return fail();
    out.clear();
  }
  if (trigger < 0) co_return close ? After::kCloseGracefully : After::kKeepAlive;

  if (cut) {
    if (!out.empty() && !co_await writeAll(stream, out)) co_return fail();
    if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, false);
    closeAbruptly(stream);
    co_return After::kClosed;
  }
  if (limit > 0) co_await sleepMs(b.chunk_delay_ms);
  appendChunk(out, plan.error_event);
  out += "0\r\n\r\n";
  if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, true);
  if (!co_await writeAll(stream, out)) co_return fail();
  co_return close ? After::kCloseGracefully : After::kKeepAlive;
}

template <class Stream>
net::awaitable<After> sendControl(Stream& stream, int status, std::string body, bool close) {
  std::string out = fixedHead(status, "application/json", body.size(), close);
  out += body;
  if (!co_await writeAll(stream, out)) co_return After::kClosed;
  co_return close ? After::kCloseGracefully : After::kKeepAlive;
}

template <class Stream>
net::awaitable<After> handle(Stream& stream, Shared& shared,
                             http::request<http::string_body>& req) {
  const bool close = !req.keep_alive();
  const std::string_view target(req.target().data(), req.target().size());
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const std::string_view method(req.method_string().data(), req.method_string().size());

  if (path == "/mock/calls") {
    if (req.method() == http::verb::get) {
      co_return co_await sendControl(stream, 200, shared.log.toJson(), close);
    }
    if (req.method() == http::verb::delete_) {
      shared.log.clear();
      co_return co_await sendControl(stream, 200, "{\"cleared\":true}", close);
    }
    co_return co_await sendControl(
        stream, 405, "{\"error\":{\"message\":\"mock: use GET or DELETE on /mock/calls\"}}", close);
  }

  Behaviour b = shared.options.defaults;
  std::optional<std::string> knob_error;
  for (const auto& field : req) {
    const std::string_view name(field.name_string().data(), field.name_string().size());
    if (name.size() <= kMockPrefix.size() ||
        !beast::iequals(name.substr(0, kMockPrefix.size()), kMockPrefix)) {
      continue;
    }
    const std::string knob = lowercase(name.substr(kMockPrefix.size()));
    auto error = setKnob(b, knob, std::string_view(field.value().data(), field.value().size()));
    if (error && !knob_error) knob_error = std::move(error);
  }
  if (!knob_error) knob_error = validate(b);

  std::optional<MockRequest> request = route(method, path, query);
  ResponsePlan plan;
  std::optional<std::string> body_error;
  if (request) body_error = inspectBody(req.body(), *request);
  if (!request) {
    plan = planNotFound(method, target);
  } else if (knob_error) {
    plan = planError(request->api, 400, *knob_error);
  } else if (body_error) {
    plan = planError(request->api, 400, *body_error);
  } else if (b.status != 200) {
    plan = planError(request->api, static_cast<int>(b.status),
                     "mock: x-mock-status " + std::to_string(b.status));
  } else {
    plan = planResponse(*request, b);
  }

  Call call;
  if (shared.options.record) {
    CallRecord record;
    record.method = std::string(method);
    record.target = std::string(target);
    for (const auto& field : req) {
      std::string name =
          lowercase(std::string_view(field.name_string().data(), field.name_string().size()));
      const std::string_view value(field.value().data(), field.value().size());
      bool merged = false;
      for (auto& [seen_name, seen_value] : record.headers) {
        if (seen_name == name) {  // repeated header: one JSON member, values comma-joined
          seen_value += ", ";
          seen_value += value;
          merged = true;
          break;
        }
      }
      if (!merged) record.headers.emplace_back(std::move(name), std::string(value));
    }
    record.body = std::move(req.body());
    record.status = plan.status;
    if (request) {
      record.dialect = std::string(dialectName(request->api));
      record.operation = std::string(operationName(request->api));
      record.model = request->model;
      record.stream = request->stream;
      record.include_usage = request->include_usage;
      record.response_model = plan.response_model;
    }
    if (plan.status == 200) record.usage = plan.usage;
    call.seq = shared.log.add(std::move(record));
    call.recorded = true;
  }

  if (b.stall && !knob_error) {
    co_await stallUntilPeerCloses(stream);
    co_return After::kClosed;
  }
  co_await sleepMs(b.ttft_ms);
  if (plan.streaming && plan.status == 200) {
    co_return co_await sendStream(stream, shared, call, plan, b, close);
  }
  co_return co_await sendFixed(stream, shared, call, plan, b, close);
}

bool isProtocolError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

template <class Stream>
net::awaitable<void> serve(Stream& stream, Shared& shared) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    beast::error_code ec = header_ec;
    if (!ec) {
      const auto expect = parser.get()[http::field::expect];
      if (beast::iequals(expect, "100-continue") &&
          !co_await writeAll(stream, "HTTP/1.1 100 Continue\r\n\r\n")) {
        break;
      }
      auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      ec = body_ec;
    }
    if (ec) {
      if (isProtocolError(ec)) {
        const int status = ec == http::error::body_limit ? 413 : 400;
        std::string body = "{\"error\":{\"message\":\"mock: bad request: " + ec.message() +
                           "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}";
        co_await sendControl(stream, status, std::move(body), true);
        co_await closeGracefully(stream);
      } else {
        closeAbruptly(stream);
      }
      break;
    }
    auto req = parser.release();
    const After after = co_await handle(stream, shared, req);
    if (after == After::kKeepAlive) continue;
    if (after == After::kCloseGracefully) co_await closeGracefully(stream);
    break;
  }
}

// Plain sockets rather than beast::tcp_stream: the mock sets no per-operation deadlines (a
// stalled call must wait for its peer), and the bare socket is measurably cheaper per request.
net::awaitable<void> servePlain(tcp::socket socket, Shared& shared) {
  co_await serve(socket, shared);
}

net::awaitable<void> serveTls(tcp::socket socket, ssl::context& tls, Shared& shared) {
  ssl::stream<tcp::socket> stream(std::move(socket), tls);
  const bool ok = co_await withTimeout(
      stream, stream.async_handshake(ssl::stream_base::server, kUseTuple), kTlsHandshakeTimeout);
  if (!ok) {
    closeAbruptly(stream);
    co_return;
  }
  co_await serve(stream, shared);
}

void reportCrash(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mock_upstream: connection failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "mock_upstream: connection failed\n");
  }
}

net::awaitable<void> acceptLoop(tcp::acceptor& acceptor,
                                std::vector<std::unique_ptr<net::io_context>>& workers,
                                ssl::context* tls, Shared& shared) {
  size_t next = 0;
  for (;;) {
    net::io_context& worker = *workers[next];
    next = (next + 1) % workers.size();
    auto [ec, socket] = co_await acceptor.async_accept(worker, kUseTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE: the listener stays up
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls != nullptr) {
      net::co_spawn(worker, serveTls(std::move(socket), *tls, shared), reportCrash);
    } else {
      net::co_spawn(worker, servePlain(std::move(socket), shared), reportCrash);
    }
  }
}

std::string endpointText(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace

int runMockServer(const ServerOptions& options) {
  std::unique_ptr<ssl::context> tls;
  if (!options.tls_cert.empty()) {
    tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    beast::error_code ec;
    tls->use_certificate_chain_file(options.tls_cert, ec);
    if (!ec) tls->use_private_key_file(options.tls_key, ssl::context::pem, ec);
    if (ec) {
      std::fprintf(stderr, "mock_upstream: cannot load TLS certificate/key: %s\n",
                   ec.message().c_str());
      return 1;
    }
  }

  Shared shared{options, CallLog(options.record_limit)};
  std::vector<std::unique_ptr<net::io_context>> workers;
  for (int i = 0; i < options.threads; ++i) workers.push_back(std::make_unique<net::io_context>(1));

  beast::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    std::fprintf(stderr, "mock_upstream: bad listen address '%s'\n", options.host.c_str());
    return 1;
  }
  const tcp::endpoint endpoint(address, options.port);
  tcp::acceptor acceptor(*workers[0]);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "mock_upstream: cannot listen on %s: %s\n", endpointText(endpoint).c_str(),
                 ec.message().c_str());
    return 1;
  }
  std::printf("mock_upstream listening on %s\n", endpointText(acceptor.local_endpoint()).c_str());
  std::fflush(stdout);

  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (auto& worker : workers) guards.push_back(net::make_work_guard(*worker));

  net::signal_set signals(*workers[0], SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) {
    beast::error_code ignored;
    acceptor.close(ignored);
    for (auto& worker : workers) worker->stop();
  });
  net::co_spawn(*workers[0], acceptLoop(acceptor, workers, tls.get(), shared), reportCrash);

  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers.size(); ++i) threads.emplace_back([&, i] { workers[i]->run(); });
  workers[0]->run();
  for (auto& thread : threads) thread.join();
  return 0;
}

}  // namespace tollgate::loadtest
