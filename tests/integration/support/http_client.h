#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tollgate::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  bool complete = false;                       // the body ended properly
  std::string error;                           // transport error, if any

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// A blocking HTTP/1.1 client on one keep-alive connection, for tests.
class HttpClient {
 public:
  HttpClient(const std::string& host, unsigned short port);
  ~HttpClient();

  HttpResponse post(const std::string& target, const std::string& body, const Headers& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  HttpResponse get(const std::string& target,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Sends a request, reads the response head and `body_bytes` body bytes, then closes the
  // connection abruptly (a client that leaves mid-stream). Returns what was read.
  HttpResponse postAndLeave(const std::string& target, const std::string& body, size_t body_bytes,
                            const Headers& headers = {});

  // Sends raw bytes and reads until the server closes or `timeout`; returns everything read.
  std::string raw(const std::string& bytes, std::chrono::milliseconds timeout);

  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::testing
