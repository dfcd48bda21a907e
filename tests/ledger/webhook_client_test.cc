// The ledger's webhook client over TLS: a certificate the client trusts and that names the host
// is accepted, one it does not trust is refused. The server is Python's ssl module on loopback
// with a certificate made for the test by the openssl command.
#include "gateway/net/webhook_client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/integration/support/process.h"

namespace tollgate::ledger {
namespace {

using testing::Process;
using testing::TempDir;

constexpr const char* kServer = R"(
import http.server, ssl, sys
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("listening on", server.server_address[1], flush=True)
server.serve_forever()
)";

class HttpsWebhook : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string make_cert =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost -keyout " +
        dir_.file("key.pem") + " -out " + dir_.file("cert.pem") + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(make_cert.c_str()), 0);
    dir_.write("server.py", kServer);
    server_ = std::make_unique<Process>(
        "https-hook", std::vector<std::string>{"/usr/bin/python3", dir_.file("server.py"),
                                               dir_.path(), dir_.file("received")});
    auto line = server_->waitForLine("listening on ", std::chrono::seconds(10));
    ASSERT_TRUE(line) << server_->stderrText();
    port_ = *line;
  }
  void TearDown() override { unsetenv("SSL_CERT_FILE"); }

  std::string received() const {
    std::ifstream in(dir_.file("received"));
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

  TempDir dir_;
  std::unique_ptr<Process> server_;
  std::string port_;
};

TEST_F(HttpsWebhook, TrustedCertificateNamingTheHostIsAccepted) {
  setenv("SSL_CERT_FILE", dir_.file("cert.pem").c_str(), 1);
  std::string error;
  EXPECT_TRUE(net::postWebhook("https://localhost:" + port_ + "/hook", "application/json",
                               R"({"anomaly":1})", std::chrono::seconds(5), error))
      << error;
  EXPECT_EQ(received(), "{\"anomaly\":1}\n");
}

TEST_F(HttpsWebhook, UntrustedCertificateIsRefusedAndNothingIsSent) {
  std::string error;
  EXPECT_FALSE(net::postWebhook("https://localhost:" + port_ + "/hook", "application/json", "{}",
                                std::chrono::seconds(5), error));
  EXPECT_NE(error.find("TLS handshake"), std::string::npos) << error;
  EXPECT_EQ(received(), "");
}

TEST_F(HttpsWebhook, CertificateForAnotherNameIsRefused) {
  setenv("SSL_CERT_FILE", dir_.file("cert.pem").c_str(), 1);
  std::string error;
  // 127.0.0.1 is not a name the certificate holds (it names only "localhost").
  EXPECT_FALSE(net::postWebhook("https://127.0.0.1:" + port_ + "/hook", "application/json", "{}",
                                std::chrono::seconds(5), error));
  EXPECT_NE(error.find("TLS handshake"), std::string::npos) << error;
}

TEST(WebhookUrl, OtherSchemesAreRefused) {
  std::string error;
  EXPECT_FALSE(net::postWebhook("ftp://example/hook", "application/json", "{}",
                                std::chrono::seconds(1), error));
  EXPECT_NE(error.find("http:// or https://"), std::string::npos) << error;
}

}  // namespace
}  // namespace tollgate::ledger
