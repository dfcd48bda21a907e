#include "tests/integration/support/redis_server.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "tests/integration/support/stack.h"

namespace tollgate::testing {

namespace {

constexpr const char* kServer = "/usr/bin/redis-server";
constexpr const char* kCli = "/usr/bin/redis-cli";

}  // namespace

bool RedisServer::installed() { return ::access(kServer, X_OK) == 0 && ::access(kCli, X_OK) == 0; }

RedisServer::RedisServer() : port_(unusedPort()) { start(); }

RedisServer::~RedisServer() { kill(); }

void RedisServer::start() {
  process_ = std::make_unique<Process>(
      "redis-server",
      std::vector<std::string>{kServer, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", dir_.path(),
                               "--daemonize", "no", "--protected-mode", "no"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cli("PING") == "PONG") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server did not answer on port " + std::to_string(port_) + ": " +
                           process_->stderrText());
}

void RedisServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
  process_.reset();
}

std::string RedisServer::cli(const std::string& args) const {
  const std::string command =
      std::string(kCli) + " -h 127.0.0.1 -p " + std::to_string(port_) + " " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  ::pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace tollgate::testing
