#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "tests/integration/support/process.h"

namespace tollgate::testing {

// Debian's redis-server on loopback on a free port, without persistence, for the spend-state
// tests. kill() stops it at once (SIGKILL: a crash, no goodbye to clients); start() brings it
// back on the same port, empty.
class RedisServer {
 public:
  RedisServer();  // starts it; throws when it does not answer PING in time
  ~RedisServer();

  unsigned short port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

  void kill();
  void start();

  // Runs redis-cli with `args`; returns its standard output (trimmed).
  std::string cli(const std::string& args) const;

  static bool installed();

 private:
  unsigned short port_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

}  // namespace tollgate::testing
