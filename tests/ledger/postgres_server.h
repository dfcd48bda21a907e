#pragma once

// Debian's PostgreSQL 15 started for a test on a free loopback port, in a temporary directory,
// as the postgres user (the server refuses to run as root). Stopped (fast shutdown) and removed
// at the end.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "tests/integration/support/process.h"

namespace tollgate::ledger::testing {

inline constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";

inline int freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class PostgresServer {
 public:
  PostgresServer() : port_(freeLoopbackPort()) {
    using namespace std::chrono_literals;
    const std::string data = dir_.file("pg");
    const std::string as_postgres = "setpriv --reuid=postgres --regid=postgres --init-groups ";
    tollgate::testing::Process setup(
        "initdb", {"/bin/sh", "-c",
                   "chown postgres " + dir_.path() + " && " + as_postgres + kPostgresBin +
                       "/initdb -D " + data + " -A trust -U postgres --no-sync >/dev/null"});
    if (setup.wait(120s) != 0) {
      ADD_FAILURE() << "initdb failed: " << setup.stderrText();
      return;
    }
    server_ = std::make_unique<tollgate::testing::Process>(
        "postgres",
        std::vector<std::string>{"/bin/sh", "-c",
                                 "exec " + as_postgres + kPostgresBin + "/postgres -D " + data +
                                     " -p " + std::to_string(port_) + " -k " + dir_.path() +
                                     " -c listen_addresses=127.0.0.1 -c fsync=off 2>&1"});
    while (auto line = server_->readLine(60s)) {
      if (line->find("ready to accept connections") != std::string::npos) {
        ready_ = true;
        return;
      }
    }
    ADD_FAILURE() << "postgres did not start";
  }
  ~PostgresServer() {
    using namespace std::chrono_literals;
    if (server_ && server_->running()) {
      server_->signal(SIGINT);  // fast shutdown
      server_->wait(30s);
    }
  }
  bool ready() const { return ready_; }
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }

 private:
  tollgate::testing::TempDir dir_;
  int port_;
  std::unique_ptr<tollgate::testing::Process> server_;
  bool ready_ = false;
};

}  // namespace tollgate::ledger::testing
