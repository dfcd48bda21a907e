#pragma once

#include <simdjson.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/support/http_client.h"
#include "tests/integration/support/process.h"

namespace tollgate::testing {

// A port nothing listens on (bound then released): for a server the test starts itself. Another
// socket bound to port 0 may be given the same port later; for an endpoint that must stay dead,
// use RefusingPort.
unsigned short unusedPort();

// A loopback port held for the object's life by a bound socket that never listens: a connect to
// it is refused (RST), and no other socket (a mock started on port 0, an outgoing connection's
// source port) can be given it while it is held.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  unsigned short port() const { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

struct StackOptions {
  unsigned workers = 2;
  std::string extra_server_yaml;     // appended under server: (indented by the caller)
  std::string extra_timeouts_yaml;   // appended under server.timeouts: (indented by the caller)
  std::string extra_upstreams_yaml;  // appended to upstreams: (@MOCK_PORT@ = the mock's port)
  std::string extra_prices_yaml;     // appended under prices: (indented by the caller)
  std::string mock_args;             // extra mock_upstream arguments, space separated
  std::string extra_yaml;            // appended at the top level (keys:, attribution:, ...)
  bool start_mock = true;
  std::string events_sink = "file";  // events.sink; "none" turns metering and events off
  std::string extra_events_yaml;     // appended under events: (indented by 2)
  std::vector<std::pair<std::string, std::string>> gateway_env;  // added to the gateway's
  std::vector<std::string> gateway_args;  // after --config FILE (e.g. --test-clock-file PATH)
};

// The mock upstream and the gateway in front of it, as real processes on loopback ports the OS
// chose. The gateway writes cost events to a JSONL file in a temporary directory.
class Stack {
 public:
  explicit Stack(StackOptions options = {});
  ~Stack();

  HttpClient gatewayClient() const { return HttpClient(gateway_.host, gateway_.port); }
  HttpClient mockClient() const { return HttpClient(mock_.host, mock_.port); }
  HttpClient adminClient() const { return HttpClient(admin_.host, admin_.port); }

  // Cost event lines written so far; waits until at least `count` exist (or `timeout`).
  std::vector<std::string> waitForEvents(
      size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The mock's record of the calls it served (GET /mock/calls), as raw JSON.
  std::string mockCalls();
  // The value of one series of the gateway's /metrics, matched whole (`name` or
  // `name{labels}` exactly as exposed, so "x 1" never matches "x 10"); -1 when absent.
  int64_t metric(const std::string& series);

  Process& gatewayProcess() { return *gateway_process_; }
  // SIGKILL, then reaps the gateway; startGateway() runs it again on the same config and files
  // (new ports).
  void killGateway();
  void startGateway();
  const TempDir& dir() const { return dir_; }
  const HostPort& gateway() const { return gateway_; }
  const HostPort& mock() const { return mock_; }
  const HostPort& admin() const { return admin_; }
  unsigned short refusedPort() const { return refused_port_.port(); }
  std::string eventsPath() const { return dir_.file("events.jsonl"); }
  // The gateway's config file (rewrite it, then SIGHUP the gateway, to test a reload).
  std::string configPath() const { return dir_.file("tollgate.yaml"); }

 private:
  TempDir dir_;
  RefusingPort refused_port_;
  std::unique_ptr<Process> mock_process_;
  std::unique_ptr<Process> gateway_process_;
  std::vector<std::pair<std::string, std::string>> gateway_env_;
  std::vector<std::string> gateway_args_;
  HostPort mock_;
  HostPort gateway_;
  HostPort admin_;
};

// Lowercase hex SHA-256 (a gateway key's `sha256` in keys:, a body's digest).
std::string sha256Hex(const std::string& text);

// Parses one JSON document (a copy is padded for simdjson) and keeps it alive.
class Json {
 public:
  explicit Json(const std::string& text);
  simdjson::dom::element root() const { return root_; }
  std::string str(const char* json_pointer) const;
  int64_t num(const char* json_pointer) const;
  bool boolean(const char* json_pointer) const;
  bool ok() const { return ok_; }

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

}  // namespace tollgate::testing
