#include "tests/integration/support/raw_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tollgate::testing {
namespace {

size_t contentLength(const std::string& head) {
  std::string lower;
  lower.reserve(head.size());
  for (char c : head)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return std::stoul(lower.substr(at + 17));
}

}  // namespace

RawUpstream::RawUpstream(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("RawUpstream: cannot listen");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

RawUpstream::~RawUpstream() {
  stop_ = true;
  acceptor_.join();
  {
    std::lock_guard lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : threads_) t.join();
  // Closed only here, so that no descriptor number is reused while a thread may still use it.
  for (int fd : fds_) ::close(fd);
  ::close(listen_fd_);
}

std::vector<std::string> RawUpstream::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void RawUpstream::acceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int connection = connections_++;
    std::lock_guard lock(mutex_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd, connection] { serve(fd, connection); });
  }
}

void RawUpstream::serve(int fd, int connection) {
  std::string buffer;
  char chunk[16 * 1024];
  for (int on_connection = 0; !stop_; ++on_connection) {
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (stop_) break;
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    if (head_end == std::string::npos) break;
    const size_t total = head_end + 4 + contentLength(buffer.substr(0, head_end + 2));
    while (buffer.size() < total) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ::shutdown(fd, SHUT_RDWR);
        return;
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
    Call call;
    call.fd = fd;
    call.request = buffer.substr(0, total);
    buffer.erase(0, total);
    call.on_connection = on_connection;
    call.connection = connection;
    call.index = requests_seen_++;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(call.request);
    }
    const bool more = handler_(call);
    if (call.was_reset) return;  // the descriptor is closed (its number may be reused)
    if (!more) break;
  }
  ::shutdown(fd, SHUT_RDWR);
}

bool RawUpstream::writeAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void RawUpstream::reset(const Call& call) {
  linger l{1, 0};
  ::setsockopt(call.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  std::lock_guard lock(mutex_);
  std::erase(fds_, call.fd);
  ::close(call.fd);  // with a zero linger time: RST
  call.was_reset = true;
}

std::string RawUpstream::chatAnswer(int prompt_tokens, int completion_tokens,
                                    const std::string& extra_fields) {
  const std::string body = R"({"id":"chatcmpl-raw","object":"chat.completion","model":"raw-model",)"
                           R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
                           R"("finish_reason":"stop"}],"usage":{"prompt_tokens":)" +
                           std::to_string(prompt_tokens) + R"(,"completion_tokens":)" +
                           std::to_string(completion_tokens) + R"(,"total_tokens":)" +
                           std::to_string(prompt_tokens + completion_tokens) + "}}";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra_fields +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace tollgate::testing
