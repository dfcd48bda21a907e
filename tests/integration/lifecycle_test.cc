// Process lifecycle: config checking, graceful shutdown, admin endpoints, TLS to upstreams.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include "tests/integration/support/stack.h"
#include "tests/integration/support/test_files.h"

namespace tollgate::testing {
namespace {

const std::string kChat = "/v1/chat/completions";
const std::string kGood = R"({"model":"gpt-test-1","messages":[{"role":"user","content":"hi"}]})";

int runTollgate(const std::vector<std::string>& args, std::string* err) {
  std::vector<std::string> argv = {binDir() + "/tollgate"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p("tollgate", argv);
  auto status = p.wait(std::chrono::seconds(20));
  if (err) *err = p.stderrText();
  return status.value_or(-1);
}

TEST(CheckConfig, InvalidConfigExitsNonZeroNamingTheKeyPath) {
  TempDir dir;
  dir.write("bad.yaml",
            "upstreams:\n"
            "  - name: a\n    dialect: openai\n    base_url: \"ftp://x\"\n    models: [\"*\"]\n");
  std::string err;
  EXPECT_EQ(runTollgate({"--check-config", dir.file("bad.yaml")}, &err), 1);
  EXPECT_NE(err.find("upstreams[0].base_url"), std::string::npos) << err;
}

TEST(CheckConfig, ValidConfigExitsZero) {
  TempDir dir;
  dir.write("ok.yaml",
            "upstreams:\n"
            "  - name: a\n    dialect: openai\n    base_url: \"http://127.0.0.1:1\"\n"
            "    models: [\"*\"]\n");
  EXPECT_EQ(runTollgate({"--check-config", dir.file("ok.yaml")}, nullptr), 0);
}

TEST(CheckConfig, MissingEnvironmentVariableIsNamed) {
  TempDir dir;
  dir.write("env.yaml",
            "upstreams:\n"
            "  - name: a\n    dialect: openai\n    base_url: \"http://127.0.0.1:1\"\n"
            "    models: [\"*\"]\n    headers: { authorization: \"Bearer "
            "${TOLLGATE_TEST_UNSET_KEY}\" }\n");
  std::string err;
  EXPECT_EQ(runTollgate({"--check-config", dir.file("env.yaml")}, &err), 1);
  EXPECT_NE(err.find("TOLLGATE_TEST_UNSET_KEY"), std::string::npos) << err;
}

TEST(CheckConfig, ShippedExampleConfigsAreValid) {
  for (const char* name : {"demo.yaml", "tollgate.example.yaml"}) {
    std::string err;
    Process p("tollgate",
              {binDir() + "/tollgate", "--check-config",
               std::string(TOLLGATE_SOURCE_DIR) + "/config/" + name},
              {{"OPENAI_API_KEY", "k"}, {"ANTHROPIC_API_KEY", "k"}, {"VLLM_API_KEY", "k"}});
    EXPECT_EQ(p.wait(std::chrono::seconds(20)).value_or(-1), 0) << name << ": " << p.stderrText();
  }
}

TEST(Version, PrintsTheVersion) {
  Process p("tollgate", {binDir() + "/tollgate", "--version"});
  auto line = p.readLine(std::chrono::seconds(10));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("tollgate ", 0), 0u);
  EXPECT_EQ(p.wait(std::chrono::seconds(10)).value_or(-1), 0);
}

TEST(Admin, HealthReadyAndMetrics) {
  Stack stack;
  auto admin = stack.adminClient();
  EXPECT_EQ(admin.get("/healthz").status, 200);
  EXPECT_EQ(admin.get("/readyz").status, 200);
  ASSERT_EQ(stack.gatewayClient().post(kChat, kGood).status, 200);
  stack.waitForEvents(1);
  auto metrics = admin.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(stack.metric("tollgate_calls_total{outcome=\"ok\"}"), 1) << metrics.body;
  EXPECT_EQ(admin.get("/nothing").status, 404);
}

TEST(Shutdown, SigtermFinishesTheCallInFlightAndFlushesItsEvent) {
  Stack stack;
  HttpResponse streamed;
  std::thread caller([&] {
    auto client = stack.gatewayClient();
    streamed = client.post(kChat, R"({"model":"gpt-test-1","stream":true,"messages":[]})",
                           {{"x-mock-chunks", "10"},
                            {"x-mock-chunk-delay-ms", "60"},
                            {"x-mock-completion-tokens", "30"}});
  });
  // Wait until the upstream is serving the call, then ask the gateway to stop.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stack.mockCalls().find("\"seq\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stack.gatewayProcess().signal(SIGTERM);
  caller.join();
  EXPECT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.complete) << streamed.error;
  EXPECT_NE(streamed.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(stack.gatewayProcess().wait(std::chrono::seconds(10)).value_or(-1), 0);
  auto events = stack.waitForEvents(1, std::chrono::seconds(1));
  ASSERT_EQ(events.size(), 1u);
  Json e(events[0]);
  EXPECT_EQ(e.str("/data/outcome"), "ok");
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 30);
}

// TLS to an upstream: certificate chain and host name verified by default.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(makeTestCertificates(certs_)) << "openssl failed"; }

  std::unique_ptr<Stack> start(const std::string& tls_yaml) {
    mock_ = std::make_unique<Process>(
        "mock_upstream", std::vector<std::string>{
                             binDir() + "/mock_upstream", "--listen", "127.0.0.1:0", "--tls-cert",
                             certs_.file("server.pem"), "--tls-key", certs_.file("server.key")});
    auto line = mock_->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
    EXPECT_TRUE(line.has_value()) << mock_->stderrText();
    const auto hp = parseHostPort(line.value_or("127.0.0.1:1"));
    StackOptions options;
    options.extra_upstreams_yaml =
        "  - name: secure\n    dialect: openai\n"
        "    base_url: \"https://localhost:" +
        std::to_string(hp.port) + "\"\n    models: [\"tls-*\"]\n" + tls_yaml;
    return std::make_unique<Stack>(options);
  }

  TempDir certs_;
  std::unique_ptr<Process> mock_;
};

TEST_F(TlsTest, VerifiedUpstreamWithConfiguredCaWorks) {
  auto stack = start("    tls: { ca_file: \"" + certs_.file("ca.pem") + "\" }\n");
  auto r = stack->gatewayClient().post(kChat, R"({"model":"tls-model","messages":[]})");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TlsTest, UntrustedCertificateIsRefusedWith502) {
  auto stack = start("");
  auto r = stack->gatewayClient().post(kChat, R"({"model":"tls-model","messages":[]})");
  EXPECT_EQ(r.status, 502) << r.body;
  Json j(r.body);
  EXPECT_EQ(j.str("/error/code"), "upstream_unavailable");
}

TEST_F(TlsTest, HostNameMismatchIsRefusedWith502) {
  auto stack = start("    tls: { ca_file: \"" + certs_.file("ca.pem") +
                     "\", server_name: \"api.example.com\" }\n");
  auto r = stack->gatewayClient().post(kChat, R"({"model":"tls-model","messages":[]})");
  EXPECT_EQ(r.status, 502) << r.body;
}

}  // namespace
}  // namespace tollgate::testing
