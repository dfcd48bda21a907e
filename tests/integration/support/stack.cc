#include "tests/integration/support/stack.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace tollgate::testing {

std::string sha256Hex(const std::string& text) {
  unsigned char digest[32];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

RefusingPort::RefusingPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("RefusingPort: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error("RefusingPort: bind failed");
  }
  port_ = ntohs(addr.sin_port);
}

RefusingPort::~RefusingPort() { ::close(fd_); }

// Held, then released when the RefusingPort goes.
unsigned short unusedPort() { return RefusingPort().port(); }

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

// "@MOCK_PORT@" in extra upstreams stands for the mock's port (other dialects' upstreams).
static std::string withMockPort(std::string yaml, unsigned short port) {
  constexpr std::string_view kMark = "@MOCK_PORT@";
  for (size_t at = yaml.find(kMark); at != std::string::npos; at = yaml.find(kMark, at)) {
    yaml.replace(at, kMark.size(), std::to_string(port));
  }
  return yaml;
}

Stack::Stack(StackOptions options) {
  unsigned short mock_port = refused_port_.port();
  if (options.start_mock) {
    std::vector<std::string> args = {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"};
    for (auto& a : split(options.mock_args)) args.push_back(a);
    mock_process_ = std::make_unique<Process>("mock_upstream", args);
    auto line = mock_process_->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
    if (!line)
      throw std::runtime_error("mock_upstream did not start: " + mock_process_->stderrText());
    mock_ = parseHostPort(*line);
    mock_port = mock_.port;
  }
  std::ostringstream yaml;
  yaml << "server:\n"
          "  listen: \"127.0.0.1:0\"\n"
          "  admin_listen: \"127.0.0.1:0\"\n"
          "  workers: "
       << options.workers
       << "\n"
          "  instance_id: itest\n"
          "  timeouts:\n"
          "    client_header_ms: 1000\n"
          "    client_body_ms: 1000\n"
          "    upstream_connect_ms: 1000\n"
          "    upstream_response_ms: 1500\n"
          "    upstream_idle_ms: 1500\n"
          "    shutdown_drain_ms: 5000\n"
       << options.extra_timeouts_yaml
       << "  limits:\n"
          "    max_body_bytes: 65536\n"
       << options.extra_server_yaml
       << "upstreams:\n"
          "  - name: mock\n"
          "    dialect: openai\n"
          "    base_url: \"http://127.0.0.1:"
       << mock_port
       << "\"\n"
          "    models: [\"gpt-*\", \"o3*\"]\n"
          "    headers:\n"
          "      authorization: \"Bearer upstream-secret-for-tests\"\n"
          "  - name: refused\n"
          "    dialect: openai\n"
          "    base_url: \"http://127.0.0.1:"
       << refused_port_.port()
       << "\"\n"
          "    models: [\"refused-*\"]\n"
       << withMockPort(options.extra_upstreams_yaml, mock_port)
       << "prices:\n"
          "  \"gpt-4o-mini*\": { input: \"0.15\", cache_read: \"0.075\", output: \"0.60\" }\n"
          "  \"gpt-test*\": { input: \"3.00\", output: \"12.00\" }\n"
          "  \"o3*\": { input: \"2.00\", cache_read: \"0.50\", output: \"8.00\" }\n"
       << options.extra_prices_yaml
       << "price_version: \"itest-1\"\n"
          "events:\n"
          "  sink: "
       << options.events_sink
       << "\n"
          "  file:\n"
          "    path: \""
       << eventsPath() << "\"\n"
       << options.extra_events_yaml
       << "logging:\n"
          "  level: debug\n"
       << options.extra_yaml;
  dir_.write("tollgate.yaml", yaml.str());
  gateway_env_ = options.gateway_env;
  gateway_args_ = options.gateway_args;
  startGateway();
}

void Stack::killGateway() {
  gateway_process_->signal(SIGKILL);
  gateway_process_->wait(std::chrono::seconds(10));
}

void Stack::startGateway() {
  std::vector<std::string> args{binDir() + "/tollgate", "--config", dir_.file("tollgate.yaml")};
  args.insert(args.end(), gateway_args_.begin(), gateway_args_.end());
  gateway_process_ = std::make_unique<Process>("tollgate", args, gateway_env_);
  auto line = gateway_process_->waitForLine("tollgate listening on ", std::chrono::seconds(10));
  if (!line) throw std::runtime_error("tollgate did not start: " + gateway_process_->stderrText());
  const auto admin_at = line->find(" admin ");
  gateway_ = parseHostPort(line->substr(0, admin_at));
  admin_ = parseHostPort(line->substr(admin_at + 7));
}

Stack::~Stack() {
  if (gateway_process_) {
    gateway_process_->signal(SIGTERM);
    gateway_process_->wait(std::chrono::seconds(10));
  }
}

int64_t Stack::metric(const std::string& series) {
  const std::string text = adminClient().get("/metrics").body;
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

std::vector<std::string> Stack::waitForEvents(size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::string> lines;
  for (;;) {
    lines.clear();
    std::ifstream in(eventsPath());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
    if (lines.size() >= count || std::chrono::steady_clock::now() >= deadline) return lines;
    // The sink writes from its own thread; re-read the file until the events are there.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Stack::mockCalls() { return mockClient().get("/mock/calls").body; }

Json::Json(const std::string& text) {
  auto result = parser_.parse(text);
  ok_ = result.error() == simdjson::SUCCESS;
  if (ok_) root_ = result.value_unsafe();
}

std::string Json::str(const char* pointer) const {
  std::string_view v;
  if (root_.at_pointer(pointer).get(v) != simdjson::SUCCESS)
    return "<missing " + std::string(pointer) + ">";
  return std::string(v);
}

int64_t Json::num(const char* pointer) const {
  int64_t v = -1;
  if (root_.at_pointer(pointer).get(v) != simdjson::SUCCESS) return -999999;
  return v;
}

bool Json::boolean(const char* pointer) const {
  bool v = false;
  if (root_.at_pointer(pointer).get(v) != simdjson::SUCCESS) return false;
  return v;
}

}  // namespace tollgate::testing
