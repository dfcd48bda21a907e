#pragma once

#include <string>

namespace tollgate::gateway {

// An error the gateway itself answers with (not relayed from an upstream).
struct GatewayError {
  int status = 500;
  std::string code;     // stable, machine-readable
  std::string message;  // safe to show the caller
};

}  // namespace tollgate::gateway
