#include "tests/integration/support/webhook_receiver.h"

#include <strings.h>

#include <thread>

namespace tollgate::testing {

namespace {

// The value of header `name` (case-insensitive) in a request head; empty when absent.
std::string headerValue(const std::string& head, const std::string& name) {
  size_t at = head.find("\r\n");
  while (at != std::string::npos && at + 2 < head.size()) {
    const size_t start = at + 2;
    const size_t end = head.find("\r\n", start);
    const std::string line = head.substr(start, end == std::string::npos ? end : end - start);
    const size_t colon = line.find(':');
    if (colon == name.size() && ::strncasecmp(line.c_str(), name.c_str(), colon) == 0) {
      size_t value = colon + 1;
      while (value < line.size() && line[value] == ' ') ++value;
      return line.substr(value);
    }
    at = end;
  }
  return "";
}

}  // namespace

WebhookReceiver::WebhookReceiver(int failures_per_body)
    : failures_per_body_(failures_per_body),
      server_([this](const RawUpstream::Call& call) { return handle(call); }) {}

bool WebhookReceiver::handle(const RawUpstream::Call& call) {
  const size_t head_end = call.request.find("\r\n\r\n");
  const std::string head = call.request.substr(0, head_end);
  const std::string body =
      head_end == std::string::npos ? std::string() : call.request.substr(head_end + 4);
  bool refuse = false;
  {
    std::lock_guard lock(mutex_);
    ++attempts_;
    int& refused = refused_[body];
    if (refused < failures_per_body_) {
      ++refused;
      refuse = true;
    } else {
      accepted_.push_back({headerValue(head, "content-type"), body});
    }
  }
  RawUpstream::writeAll(call.fd, refuse ? "HTTP/1.1 500 Internal Server Error\r\n"
                                          "Content-Length: 0\r\nConnection: close\r\n\r\n"
                                        : "HTTP/1.1 200 OK\r\n"
                                          "Content-Length: 2\r\nConnection: close\r\n\r\nok");
  return false;
}

std::vector<WebhookReceiver::Delivery> WebhookReceiver::accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

int WebhookReceiver::attempts() const {
  std::lock_guard lock(mutex_);
  return attempts_;
}

size_t WebhookReceiver::distinctBodies() const {
  std::lock_guard lock(mutex_);
  return refused_.size();
}

bool WebhookReceiver::waitFor(size_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepted().size() >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return accepted().size() >= count;
}

}  // namespace tollgate::testing
