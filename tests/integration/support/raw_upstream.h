#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tollgate::testing {

// A scripted upstream that plays the server behaviours the mock never shows (interim answers,
// bytes after a response, resets, drips): it accepts connections on 127.0.0.1 (a port the OS
// picks), reads each request (head, then a Content-Length body), records it, and lets the
// test's handler write whatever bytes it wants on the raw socket. Each connection has its own
// thread; the destructor stops everything.
class RawUpstream {
 public:
  // What a handler is told about one request. `index` counts requests over all connections,
  // `on_connection` counts them on this connection (0 first).
  struct Call {
    int fd = -1;
    std::string request;  // head and body as received
    int index = 0;
    int on_connection = 0;
    int connection = 0;
    mutable bool was_reset = false;
  };
  // Writes the answer on call.fd. Returns whether to read another request on the connection
  // (false closes it).
  using Handler = std::function<bool(const Call& call)>;

  explicit RawUpstream(Handler handler);
  ~RawUpstream();
  RawUpstream(const RawUpstream&) = delete;
  RawUpstream& operator=(const RawUpstream&) = delete;

  unsigned short port() const { return port_; }
  std::vector<std::string> requests() const;
  int connections() const { return connections_.load(); }
  bool stopping() const { return stop_.load(); }

  // Helpers for handlers: write all of `bytes` (false when the peer is gone); reset the
  // call's connection (RST, not FIN; the handler's return value is then ignored).
  static bool writeAll(int fd, const std::string& bytes);
  void reset(const Call& call);

  // A complete OpenAI chat answer (Content-Length framed) with this usage.
  static std::string chatAnswer(int prompt_tokens, int completion_tokens,
                                const std::string& extra_fields = "");

 private:
  void acceptLoop();
  void serve(int fd, int connection);

  Handler handler_;
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> requests_seen_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::thread acceptor_;
};

}  // namespace tollgate::testing
