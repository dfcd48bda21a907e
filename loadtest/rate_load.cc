// rate_load: an open-loop, constant-rate HTTP/1.1 load generator for latency at a given load.
//
// wrk is closed-loop: a slow response delays the next request, so the load backs off exactly
// when the server stalls and the stall barely shows in the percentiles (coordinated omission).
// Here request i is due at start + i / rate whatever happened before, the requests are spread
// round-robin over N keep-alive connections (one outstanding request each, as HTTP/1.1 allows),
// and a request's latency runs from its due time to the last byte of its response. A request
// that waits for its connection to come free waits on the clock.
//
// usage: rate_load --url http://HOST:PORT/PATH --rate R [--connections N] [--duration S]
//                  [--threads T] [--timeout S] [--stream] [--close] [--header "Name: value"]...
//                  [--body TEXT]
// The default request is loadtest/wrk/chat.lua's chat completion (the mock answers 1,500 input /
// 400 output tokens; --stream asks for 8 SSE chunks, read to the end of the chunked body).
// --close opens a new connection per request ("Connection: close"). Requests are due during
// --duration seconds; the run then waits up to --timeout seconds for the last responses.
// Prints one line:
//   RESULT scheduled=<n> ok=<n> non2xx=<n> errors=<n> timeouts=<n> rate=<completed/s>
//          p50_ms=<> p90_ms=<> p99_ms=<> p999_ms=<> max_ms=<>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr int kUsageExit = 2;

struct Options {
  std::string host;
  std::string port;
  std::string target;
  double rate = 0;
  int connections = 16;
  double duration_s = 5;
  double timeout_s = 10;
  int threads = 1;
  bool stream = false;
  bool close = false;
  std::vector<std::string> headers;
  std::optional<std::string> body;
};

// What one connection saw; merged after the run, so no connection shares state while it runs.
struct ConnectionStats {
  uint64_t ok = 0;
  uint64_t non2xx = 0;
  uint64_t errors = 0;
  std::vector<int64_t> latencies_ns;
  Clock::time_point last_done{};
};

struct Plan {
  Clock::time_point start;
  uint64_t scheduled = 0;  // requests due during the run, numbered 0..scheduled-1
  double rate = 0;
  int connections = 0;
  std::string request;  // the serialized request, sent as is every time
  tcp::endpoint endpoint;
  bool close = false;

  Clock::time_point dueTime(uint64_t sequence) const {
    const auto offset = std::chrono::duration<double>(static_cast<double>(sequence) / rate);
    return start + std::chrono::duration_cast<Clock::duration>(offset);
  }
};

// One io_context per thread, each with its share of the connections. The deadline timer keeps
// the run bounded and is cancelled when the worker's last connection is done.
struct Worker {
  asio::io_context context{1};
  asio::steady_timer deadline{context};
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  int active = 0;
  bool stopping = false;
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: rate_load --url http://HOST:PORT/PATH --rate R [--connections N] "
               "[--duration S]\n"
               "                 [--threads T] [--timeout S] [--stream] [--close] "
               "[--header \"Name: value\"]... [--body TEXT]\n");
}

int usageError(const char* why) {
  std::fprintf(stderr, "rate_load: %s\n", why);
  usage(stderr);
  return kUsageExit;
}

// Parses a number in [min, max] into out (an integer where out is one); false if it is not.
template <typename T>
bool parseNumber(std::string_view text, double min, double max, T& out) {
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc{} || result.ptr != text.data() + text.size()) return false;
  if (!(value >= min && value <= max)) return false;
  if (std::is_integral_v<T> && value != std::floor(value)) return false;
  out = static_cast<T>(value);
  return true;
}

// http://HOST:PORT/PATH (loopback benchmarks: no TLS, no user info).
bool parseUrl(std::string_view url, Options& options) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return false;
  url.remove_prefix(kScheme.size());
  const size_t slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  options.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == authority.size()) return false;
  options.host = std::string(authority.substr(0, colon));
  options.port = std::string(authority.substr(colon + 1));
  return true;
}

// The same call as loadtest/wrk/chat.lua, so wrk's and this tool's figures describe one load.
std::string buildRequest(const Options& options) {
  std::string body = options.body.value_or(
      std::string(R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a )"
                  R"(helpful assistant."},{"role":"user","content":"Summarise the quarterly )"
                  R"(report in three bullet points."}])") +
      (options.stream ? R"(,"stream":true})" : "}"));
  std::string request = "POST " + options.target + " HTTP/1.1\r\nHost: " + options.host + ":" +
                        options.port +
                        "\r\nContent-Type: application/json\r\nx-team: bench\r\n"
                        "x-project: loadtest\r\nx-mock-prompt-tokens: 1500\r\n"
                        "x-mock-completion-tokens: 400\r\nx-mock-chunks: 8\r\n";
  for (const auto& header : options.headers) request += header + "\r\n";
  if (options.close) request += "Connection: close\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return request;
}

// Connection `index` sends requests index, index + N, index + 2N, ... each at its due time or,
// when the previous response came late, as soon as that response is in.
asio::awaitable<void> sendRequests(const Plan& plan, int index, ConnectionStats& stats,
                                   Worker& worker) {
  const bool& stopping = worker.stopping;
  auto executor = co_await asio::this_coro::executor;
  auto socket = std::make_shared<tcp::socket>(executor);
  worker.sockets.push_back(socket);
  asio::steady_timer timer(executor);
  boost::beast::flat_buffer buffer;
  const auto step = static_cast<uint64_t>(plan.connections);
  for (uint64_t sequence = static_cast<uint64_t>(index); sequence < plan.scheduled;
       sequence += step) {
    if (stopping) co_return;
    const auto due = plan.dueTime(sequence);
    if (Clock::now() < due) {
      timer.expires_at(due);
      co_await timer.async_wait(kNoThrow);
      if (stopping) co_return;
    }
    boost::system::error_code error;
    if (!socket->is_open()) {
      buffer.clear();
      auto [connect_error] = co_await socket->async_connect(plan.endpoint, kNoThrow);
      error = connect_error;
      if (!error) socket->set_option(tcp::no_delay(true), error);
    }
    if (!error) {
      const auto request_buffer = asio::buffer(plan.request);
      auto [write_error, written] = co_await asio::async_write(*socket, request_buffer, kNoThrow);
      (void)written;
      error = write_error;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (!error) {
      auto [read_error, read] = co_await http::async_read(*socket, buffer, parser, kNoThrow);
      (void)read;
      error = read_error;
    }
    if (error) {
      if (stopping) co_return;
      ++stats.errors;
      boost::system::error_code ignored;
      socket->close(ignored);
      continue;
    }
    const auto done = Clock::now();
    stats.latencies_ns.push_back(std::chrono::nanoseconds(done - due).count());
    stats.last_done = std::max(stats.last_done, done);
    const unsigned status = parser.get().result_int();
    if (status >= 200 && status < 300) {
      ++stats.ok;
    } else {
      ++stats.non2xx;
    }
    if (plan.close || !parser.get().keep_alive()) {
      boost::system::error_code ignored;
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close();
    }
  }
}

asio::awaitable<void> runConnection(const Plan& plan, int index, ConnectionStats& stats,
                                    Worker& worker) {
  co_await sendRequests(plan, index, stats, worker);
  if (--worker.active == 0) worker.deadline.cancel();
}

// Bounds the run: requests still unanswered --timeout after the last one was due are given up.
asio::awaitable<void> watchdog(Clock::time_point deadline, Worker& worker) {
  if (worker.active == 0) co_return;
  worker.deadline.expires_at(deadline);
  auto [error] = co_await worker.deadline.async_wait(kNoThrow);
  if (error) co_return;  // cancelled: every connection is done
  worker.stopping = true;
  for (auto& socket : worker.sockets) {
    boost::system::error_code ignored;
    socket->close(ignored);
  }
}

double percentileMs(const std::vector<int64_t>& sorted, double percentile) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<size_t>(std::ceil(percentile / 100.0 * static_cast<double>(sorted.size())));
  const size_t index = std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1);
  return static_cast<double>(sorted[index]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      return 0;
    }
    if (arg == "--stream") {
      options.stream = true;
      continue;
    }
    if (arg == "--close") {
      options.close = true;
      continue;
    }
    if (i + 1 >= argc) return usageError("missing value");
    const std::string_view value = argv[++i];
    if (arg == "--url") {
      if (!parseUrl(value, options)) return usageError("--url must be http://HOST:PORT/PATH");
      have_url = true;
    } else if (arg == "--rate") {
      if (!parseNumber(value, 0.001, 1e7, options.rate)) return usageError("--rate must be > 0");
    } else if (arg == "--connections") {
      if (!parseNumber(value, 1, 10000, options.connections)) {
        return usageError("--connections must be 1..10000");
      }
    } else if (arg == "--threads") {
      if (!parseNumber(value, 1, 64, options.threads)) return usageError("--threads must be 1..64");
    } else if (arg == "--duration") {
      if (!parseNumber(value, 0.001, 86400, options.duration_s)) {
        return usageError("--duration must be seconds > 0");
      }
    } else if (arg == "--timeout") {
      if (!parseNumber(value, 0.001, 3600, options.timeout_s)) {
        return usageError("--timeout must be seconds > 0");
      }
    } else if (arg == "--header") {
      if (value.find(':') == std::string_view::npos)
        return usageError("--header needs Name: value");
      options.headers.emplace_back(value);
    } else if (arg == "--body") {
      options.body = std::string(value);
    } else {
      return usageError("unknown argument");
    }
  }
  if (!have_url || options.rate <= 0) return usageError("--url and --rate are required");

  Plan plan;
  plan.rate = options.rate;
  plan.connections = options.connections;
  plan.close = options.close;
  plan.request = buildRequest(options);
  plan.scheduled = static_cast<uint64_t>(std::ceil(options.duration_s * options.rate - 1e-9));
  {
    asio::io_context resolve_context;
    tcp::resolver resolver(resolve_context);
    boost::system::error_code error;
    const auto results = resolver.resolve(options.host, options.port, error);
    if (error || results.empty()) {
      std::fprintf(stderr, "rate_load: cannot resolve %s:%s: %s\n", options.host.c_str(),
                   options.port.c_str(), error.message().c_str());
      return 1;
    }
    plan.endpoint = results.begin()->endpoint();
  }

  std::vector<ConnectionStats> stats(static_cast<size_t>(options.connections));
  for (auto& s : stats) {
    s.latencies_ns.reserve(static_cast<size_t>(plan.scheduled / stats.size() + 1));
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < options.threads; ++t) workers.push_back(std::make_unique<Worker>());

  // Connections start 20 ms from now so every thread is running before the first one is due.
  plan.start = Clock::now() + std::chrono::milliseconds(20);
  const auto last_due = plan.dueTime(plan.scheduled);
  const auto deadline = last_due + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options.timeout_s));
  for (int c = 0; c < options.connections; ++c) {
    Worker& worker = *workers[static_cast<size_t>(c % options.threads)];
    ++worker.active;
    asio::co_spawn(worker.context, runConnection(plan, c, stats[static_cast<size_t>(c)], worker),
                   asio::detached);
  }
  for (auto& worker : workers) {
    if (worker->active > 0) {
      asio::co_spawn(worker->context, watchdog(deadline, *worker), asio::detached);
    }
  }
  std::vector<std::thread> threads;
  for (auto& worker : workers) {
    threads.emplace_back([&worker] { worker->context.run(); });
  }
  for (auto& thread : threads) thread.join();

  ConnectionStats total;
  for (auto& s : stats) {
    total.ok += s.ok;
    total.non2xx += s.non2xx;
    total.errors += s.errors;
    total.last_done = std::max(total.last_done, s.last_done);
    total.latencies_ns.insert(total.latencies_ns.end(), s.latencies_ns.begin(),
                              s.latencies_ns.end());
  }
  std::sort(total.latencies_ns.begin(), total.latencies_ns.end());
  const uint64_t completed = total.ok + total.non2xx;
  const uint64_t timeouts = plan.scheduled - completed - total.errors;
  const double elapsed_s = std::max(
      options.duration_s, std::chrono::duration<double>(total.last_done - plan.start).count());
  std::printf(
      "RESULT scheduled=%llu ok=%llu non2xx=%llu errors=%llu timeouts=%llu rate=%.1f "
      "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f\n",
      static_cast<unsigned long long>(plan.scheduled), static_cast<unsigned long long>(total.ok),
      static_cast<unsigned long long>(total.non2xx), static_cast<unsigned long long>(total.errors),
      static_cast<unsigned long long>(timeouts), static_cast<double>(completed) / elapsed_s,
      percentileMs(total.latencies_ns, 50), percentileMs(total.latencies_ns, 90),
      percentileMs(total.latencies_ns, 99), percentileMs(total.latencies_ns, 99.9),
      total.latencies_ns.empty() ? 0.0 : static_cast<double>(total.latencies_ns.back()) / 1e6);
  return 0;
}
