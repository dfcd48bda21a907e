// The upstream side of HTTP conformance and the gateway's own resources: pooled connections that
// must not be reused (after a reload, with bytes after a response, past their keep-alive), TLS
// settings a reload changes, running out of file descriptors, the connection cap, the admin
// endpoints' HEAD, label lengths in /metrics and a CA file that does not exist. Each test is named
// after the defect it pins (issue 13).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/integration/support/stack.h"
#include "tests/integration/support/test_files.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";
const std::string kBody =
    R"({"model":"gpt-test-1","messages":[{"role":"user","content":"Say hello"}]})";

// A counter or gauge without labels (or with its labels written out); -1 when absent.
int64_t metric(Stack& stack, const std::string& series) { return stack.metric(series); }

// Scrapes until `series` reaches `value` (each scrape is a real request: no sleep).
void waitForMetric(Stack& stack, const std::string& series, int64_t value) {
  for (int scrapes = 0; metric(stack, series) < value; ++scrapes) {
    ASSERT_LT(scrapes, 20000) << series << "\n" << stack.gatewayProcess().stderrText();
  }
}

void reload(Stack& stack, const std::string& config, int64_t reloads_after) {
  ASSERT_TRUE(writeFileAtomically(stack.configPath(), config));
  stack.gatewayProcess().signal(SIGHUP);
  waitForMetric(stack, "tollgate_config_reloads_total{result=\"ok\"}", reloads_after);
}

size_t countOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

size_t mockCalls(const HostPort& mock) {
  return countOf(HttpClient(mock.host, mock.port).get("/mock/calls").body, "\"seq\":");
}

// An upstream written with raw sockets, for what the mock does not do: bytes after a response,
// or bytes sent on an idle keep-alive connection. Each request (head plus Content-Length body)
// is answered with respond(connection, request); sendLater() writes on an idle connection.
class RawUpstream {
 public:
  using Responder = std::function<std::string(int connection, int request)>;

  explicit RawUpstream(Responder respond) : respond_(std::move(respond)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }

  ~RawUpstream() {
    stop_.store(true);
    ::shutdown(listen_fd_, SHUT_RDWR);
    {
      std::lock_guard lock(mu_);
      for (const int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    acceptor_.join();
    for (auto& t : connections_) t.join();
    for (const int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }

  unsigned short port() const { return port_; }
  int connections() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(fds_.size());
  }
  int requests() const { return requests_.load(); }

  // Writes `bytes` on connection `index` (accepted order), unasked.
  void sendLater(int index, const std::string& bytes) {
    std::lock_guard lock(mu_);
    ASSERT_LT(index, static_cast<int>(fds_.size()));
    ASSERT_EQ(::send(fds_[index], bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

 private:
  void acceptLoop() {
    while (!stop_.load()) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mu_);
      const int index = static_cast<int>(fds_.size());
      fds_.push_back(fd);
      connections_.emplace_back([this, fd, index] { serve(fd, index); });
    }
  }

  void serve(int fd, int index) {
    std::string in;
    char buf[4096];
    for (int request = 0; !stop_.load(); ++request) {
      size_t head_end;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      std::string head = in.substr(0, head_end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t length = 0;
      if (const size_t at = head.find("content-length:"); at != std::string::npos) {
        length = std::stoul(head.substr(at + 15));
      }
      while (in.size() < head_end + 4 + length) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<size_t>(n));
      }
      in.erase(0, head_end + 4 + length);
      requests_.fetch_add(1);
      const std::string out = respond_(index, request);
      if (::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  Responder respond_;
  int listen_fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

std::string okResponse(const std::string& content) {
  const std::string body =
      R"({"id":"c1","object":"chat.completion","model":"raw-1","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":")" +
      content +
      R"("},"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})";
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

StackOptions rawUpstreamOptions(unsigned short port) {
  StackOptions options;
  options.workers = 1;  // one pool: the second call meets the first call's connection
  options.extra_upstreams_yaml =
      "  - name: raw\n    dialect: openai\n"
      "    base_url: \"http://127.0.0.1:" +
      std::to_string(port) + "\"\n    models: [\"raw-*\"]\n";
  return options;
}

const std::string kRawBody = R"({"model":"raw-1","messages":[{"role":"user","content":"hi"}]})";

TEST(HttpConformance, ReloadChangingBaseUrlNeverReusesOldHostConnection) {
  StackOptions options;
  options.workers = 1;
  Stack stack(options);
  auto second = std::make_unique<Process>(
      "mock_upstream_b",
      std::vector<std::string>{binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"});
  const auto line = second->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
  ASSERT_TRUE(line) << second->stderrText();
  const HostPort b = parseHostPort(*line);

  ASSERT_EQ(stack.gatewayClient().post(kChat, kBody).status, 200);
  ASSERT_EQ(mockCalls(stack.mock()), 1u);
  const std::string old_url = "base_url: \"http://127.0.0.1:" + std::to_string(stack.mock().port);
  const std::string new_url = "base_url: \"http://127.0.0.1:" + std::to_string(b.port);
  reload(stack, replacedOnce(readFile(stack.configPath()), old_url, new_url), 1);

  const auto r = stack.gatewayClient().post(kChat, kBody);
  EXPECT_EQ(r.status, 200) << r.body;
  // The call and the new upstream's credentials went to the new host only.
  EXPECT_EQ(mockCalls(b), 1u);
  EXPECT_EQ(mockCalls(stack.mock()), 1u);
  // The idle connection to the old host was closed by the reload.
  waitForMetric(stack, "tollgate_upstream_pool_endpoint_retired_total", 1);
}

// TLS to the mock with a certificate no system CA signed.
class HttpConformanceTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(makeTestCertificates(certs_)) << "openssl failed";
    mock_ = std::make_unique<Process>(
        "mock_upstream_tls",
        std::vector<std::string>{binDir() + "/mock_upstream", "--listen", "127.0.0.1:0",
                                 "--tls-cert", certs_.file("server.pem"), "--tls-key",
                                 certs_.file("server.key")});
    const auto line = mock_->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
    ASSERT_TRUE(line) << mock_->stderrText();
    tls_port_ = parseHostPort(*line).port;
  }

  TempDir certs_;
  std::unique_ptr<Process> mock_;
  unsigned short tls_port_ = 0;
};

TEST_F(HttpConformanceTls, ReloadTurningTlsVerifyOnIsEnforced) {
  StackOptions options;
  options.workers = 1;
  const std::string verify_off = "    tls: { verify: false }\n";
  options.extra_upstreams_yaml =
      "  - name: secure\n    dialect: openai\n"
      "    base_url: \"https://localhost:" +
      std::to_string(tls_port_) + "\"\n    models: [\"tls-*\"]\n" + verify_off;
  Stack stack(options);
  const std::string body = R"({"model":"tls-model","messages":[]})";
  ASSERT_EQ(stack.gatewayClient().post(kChat, body).status, 200);

  reload(stack, replacedOnce(readFile(stack.configPath()), verify_off, ""), 1);
  // As a fresh start with this file would: the certificate is not trusted.
  const auto r = stack.gatewayClient().post(kChat, body);
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(Json(r.body).str("/error/code"), "upstream_unavailable");
}

// The checks for bytes left in the TLS layer must not discard healthy TLS connections.
TEST_F(HttpConformanceTls, TlsConnectionIsReusedWhenNothingIsLeftUnread) {
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      "  - name: secure\n    dialect: openai\n"
      "    base_url: \"https://localhost:" +
      std::to_string(tls_port_) + "\"\n    models: [\"tls-*\"]\n" + "    tls: { ca_file: \"" +
      certs_.file("ca.pem") + "\" }\n";
  Stack stack(options);
  auto client = stack.gatewayClient();
  for (const bool stream : {false, true, false}) {
    const std::string body = std::string(R"({"model":"tls-model","stream":)") +
                             (stream ? "true" : "false") + R"(,"messages":[]})";
    const auto r = client.post(kChat, body);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_EQ(metric(stack, "tollgate_upstream_pool_connected_total"), 1);
  EXPECT_EQ(metric(stack, "tollgate_upstream_pool_reused_total"), 2);
  EXPECT_EQ(metric(stack, "tollgate_upstream_pool_unread_discarded_total"), 0);
}

TEST(HttpConformance, PooledConnectionWithBytesAfterTheResponseIsNeverReused) {
  // The first answer carries a second, unasked response after its Content-Length.
  RawUpstream upstream([](int connection, int request) {
    return connection == 0 && request == 0 ? okResponse("first") + okResponse("poisoned")
                                           : okResponse("second");
  });
  Stack stack(rawUpstreamOptions(upstream.port()));
  auto client = stack.gatewayClient();
  const auto first = client.post(kChat, kRawBody);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("first"), std::string::npos);
  const auto second = client.post(kChat, kRawBody);
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.body.find("poisoned"), std::string::npos) << second.body;
  EXPECT_NE(second.body.find("second"), std::string::npos) << second.body;
  EXPECT_EQ(upstream.connections(), 2);
  EXPECT_EQ(upstream.requests(), 2);
}

TEST(HttpConformance, ReusedConnectionIsProbedEvenWhenIdleUnderASecond) {
  RawUpstream upstream([](int, int) { return okResponse("answer"); });
  Stack stack(rawUpstreamOptions(upstream.port()));
  auto client = stack.gatewayClient();
  ASSERT_EQ(client.post(kChat, kRawBody).status, 200);
  // The pooled connection, idle for milliseconds, receives a response nobody asked for.
  upstream.sendLater(0, okResponse("poisoned"));
  const auto second = client.post(kChat, kRawBody);
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.body.find("poisoned"), std::string::npos) << second.body;
  EXPECT_EQ(upstream.connections(), 2);
  EXPECT_EQ(metric(stack, "tollgate_upstream_pool_probe_discarded_total"), 1);
}

TEST(HttpConformance, IdlePooledConnectionsExpire) {
  StackOptions options;
  options.workers = 1;
  options.extra_upstreams_yaml =
      "  - name: short-keepalive\n    dialect: openai\n"
      "    base_url: \"http://127.0.0.1:@MOCK_PORT@\"\n"
      "    models: [\"keepalive-*\"]\n    idle_keepalive_ms: 200\n";
  Stack stack(options);
  const std::string body = R"({"model":"keepalive-1","messages":[]})";
  ASSERT_EQ(stack.gatewayClient().post(kChat, body).status, 200);
  // Closed by the gateway once idle 200 ms, without any call to notice it.
  waitForMetric(stack, "tollgate_upstream_pool_expired_total", 1);
  ASSERT_EQ(stack.gatewayClient().post(kChat, body).status, 200);
  EXPECT_EQ(metric(stack, "tollgate_upstream_pool_connected_total"), 2);
  EXPECT_EQ(metric(stack, "tollgate_upstream_pool_reused_total"), 0);
}

TEST(HttpConformance, AdminHeadHasNoBody) {
  Stack stack;
  for (const std::string path : {"/healthz", "/readyz", "/metrics"}) {
    const std::string get =
        stack.adminClient().raw("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                                std::chrono::seconds(5));
    const std::string head = stack.adminClient().raw(
        "HEAD " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        std::chrono::seconds(5));
    const size_t get_end = get.find("\r\n\r\n");
    const size_t head_end = head.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << head;
    EXPECT_EQ(head.substr(0, 12), get.substr(0, 12)) << path;  // "HTTP/1.1 200"
    EXPECT_EQ(head.size(), head_end + 4) << path << ": a body after the head:\n" << head;
    EXPECT_NE(head.find("Content-Length: "), std::string::npos) << head;
    EXPECT_GT(get.size(), get_end + 4) << path;
  }
}

TEST(HttpConformance, LongModelNameDoesNotBloatMetrics) {
  Stack stack;
  const size_t before = stack.adminClient().get("/metrics").body.size();
  for (int i = 0; i < 3; ++i) {
    // Within the stack's 64 KiB body limit; each name a different series before the fix.
    const std::string model = "gpt-" + std::string(60 * 1024, 'x') + std::to_string(i);
    stack.gatewayClient().post(kChat, R"({"model":")" + model + R"(","messages":[]})");
  }
  stack.waitForEvents(3);
  const std::string after = stack.adminClient().get("/metrics").body;
  EXPECT_LT(after.size(), before + 64 * 1024) << "from " << before << " to " << after.size();
  EXPECT_EQ(after.find(std::string(1024, 'x')), std::string::npos);
}

TEST(HttpConformance, MissingCaFileIsRejected) {
  TempDir dir;
  dir.write("tollgate.yaml",
            "upstreams:\n  - name: secure\n    dialect: openai\n"
            "    base_url: \"https://127.0.0.1:1\"\n    models: [\"*\"]\n"
            "    tls: { ca_file: \"" +
                dir.file("missing-ca.pem") +
                "\" }\n"
                "events: { sink: none }\n");
  Process check("tollgate_check",
                {binDir() + "/tollgate", "--check-config", dir.file("tollgate.yaml")});
  EXPECT_EQ(check.wait(std::chrono::seconds(10)).value_or(-1), 1);
  EXPECT_NE(check.stderrText().find("upstreams[0].tls.ca_file: cannot read"), std::string::npos)
      << check.stderrText();
  Process start("tollgate_start", {binDir() + "/tollgate", "--config", dir.file("tollgate.yaml")});
  EXPECT_EQ(start.wait(std::chrono::seconds(10)).value_or(-1), 1);
  EXPECT_NE(start.stderrText().find("upstreams[0].tls.ca_file"), std::string::npos)
      << start.stderrText();

  // A file that exists but holds no certificate stops the start too (and --check-config).
  dir.write("missing-ca.pem", "not a certificate\n");
  Process check_garbage("tollgate_check",
                        {binDir() + "/tollgate", "--check-config", dir.file("tollgate.yaml")});
  EXPECT_EQ(check_garbage.wait(std::chrono::seconds(10)).value_or(-1), 1);
  EXPECT_NE(check_garbage.stderrText().find("upstreams[0].tls.ca_file: cannot load"),
            std::string::npos)
      << check_garbage.stderrText();
}

TEST(HttpConformance, ConnectTimeoutBoundsNameResolution) {
  StackOptions options;
  options.workers = 1;
  // The shim makes resolving *.slow.test take 3 s; the stack's upstream_connect_ms is 1000.
  options.gateway_env = {{"LD_PRELOAD", binDir() + "/libtollgate_slow_dns.so"}};
  // Under AddressSanitizer the shim comes before ASan's runtime in the library list, which ASan
  // refuses by default; the order does not matter for a shim that only wraps getaddrinfo.
  const char* asan = std::getenv("ASAN_OPTIONS");
  options.gateway_env.emplace_back(
      "ASAN_OPTIONS", std::string(asan != nullptr ? asan : "") + ":verify_asan_link_order=0");
  options.extra_upstreams_yaml =
      "  - name: slow-dns\n    dialect: openai\n"
      "    base_url: \"http://upstream.slow.test:8000\"\n"
      "    models: [\"slow-*\"]\n";
  Stack stack(options);
  const auto start = std::chrono::steady_clock::now();
  const auto r = stack.gatewayClient().post(kChat, R"({"model":"slow-1","messages":[]})");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_EQ(Json(r.body).str("/error/code"), "upstream_timeout");
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  // The worker was not blocked meanwhile: the next call to a resolvable upstream is served.
  EXPECT_EQ(stack.gatewayClient().post(kChat, kBody).status, 200);
}

// CPU time (user + system) of a process, in clock ticks.
long cpuTicks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) {
      stime = std::stol(field);
      break;
    }
  }
  return utime + stime;
}

int connectTo(const HostPort& to) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(to.port);
  ::inet_pton(AF_INET, to.host.c_str(), &addr.sin_addr);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

TEST(HttpConformance, AcceptBacksOffWhenFileDescriptorsRunOut) {
  StackOptions options;
  options.workers = 1;
  Stack stack(options);
  ASSERT_EQ(stack.gatewayClient().post(kChat, kBody).status, 200);
  const pid_t pid = stack.gatewayProcess().pid();
  rlimit original{};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &original), 0);
  // Room for one more descriptor: the second connection already finds none.
  const rlimit tight{openDescriptors(pid) + 1, original.rlim_max};
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &tight, nullptr), 0);
  std::vector<int> clients;
  for (int i = 0; i < 8; ++i) clients.push_back(connectTo(stack.gateway()));

  // Half a second of CPU with connections pending and no descriptor to accept them: a measured
  // window, not a wait for a condition.
  const long ticks_before = cpuTicks(pid);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const long ticks = cpuTicks(pid) - ticks_before;
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  RecordProperty("cpu_ticks_in_500ms", static_cast<int>(ticks));
  EXPECT_LT(ticks, ticks_per_second / 10) << "the accept loop spins";  // under 20 % of a core

  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, &original, nullptr), 0);
  for (const int fd : clients) ::close(fd);
  const auto r = stack.gatewayClient().post(kChat, kBody);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_GE(metric(stack, "tollgate_accept_pauses_total"), 1);
  const std::string log = stack.gatewayProcess().stderrText();
  // At most a few lines a second, however long it lasts (5 a second per key, plus a summary).
  EXPECT_LE(countOf(log, "accept failed"), 12u) << "log flood";
}

TEST(HttpConformance, ConnectionsBeyondTheCapAreClosedAtOnce) {
  StackOptions options;
  options.workers = 1;
  // Continues the stack's server.limits mapping.
  options.extra_server_yaml = "    max_connections_per_worker: 2\n";
  Stack stack(options);
  auto a = std::make_unique<HttpClient>(stack.gateway().host, stack.gateway().port);
  auto b = stack.gatewayClient();
  ASSERT_EQ(a->post(kChat, kBody).status, 200);
  ASSERT_EQ(b.post(kChat, kBody).status, 200);
  // A third connection is closed before anything is read from it.
  const std::string refused =
      stack.gatewayClient().raw("POST " + kChat +
                                    " HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                                    "Content-Length: " +
                                    std::to_string(kBody.size()) + "\r\n\r\n" + kBody,
                                std::chrono::seconds(5));
  EXPECT_EQ(refused, "");
  EXPECT_EQ(metric(stack, "tollgate_connections_over_cap_total"), 1);
  // Once a connection closes, a new one is served again.
  a.reset();
  int tries = 0;
  while (stack.gatewayClient().post(kChat, kBody).status != 200) {
    ASSERT_LT(++tries, 10000) << stack.gatewayProcess().stderrText();
  }
}

}  // namespace
}  // namespace tollgate::testing
