#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tollgate::gateway {

// An error the gateway itself answers with (not relayed from an upstream).
struct GatewayError {
  GatewayError() = default;
  GatewayError(int s, std::string c, std::string m)
      : status(s), code(std::move(c)), message(std::move(m)) {}

  int status = 500;
  std::string code;     // stable, machine-readable
  std::string message;  // safe to show the caller
  // Fields the answer carries besides the error body: Retry-After, x-should-retry,
  // x-ratelimit-* (name, value).
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace tollgate::gateway
