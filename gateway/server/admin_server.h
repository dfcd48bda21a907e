#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

namespace tollgate::gateway {

// The admin listener: GET /healthz (the process is alive and serving), GET /readyz (a config is
// loaded and the event sink accepts events; 503 otherwise), GET /metrics (Prometheus text).
// Runs on its own io_context so scrapes never touch a worker.
class AdminServer {
 public:
  struct Handlers {
    std::function<bool()> ready;
    std::function<std::string()> metrics;
  };

  AdminServer(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
              Handlers handlers);

  boost::asio::ip::tcp::endpoint localEndpoint() const { return acceptor_.local_endpoint(); }
  void start();
  void stop();

 private:
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Handlers handlers_;
};

}  // namespace tollgate::gateway
