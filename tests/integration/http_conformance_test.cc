// HTTP conformance of the gateway's front door, on raw sockets: what real clients and real
// servers do that a polite mock never shows. One test per defect of the front-door issue (named
// after it), plus the classic cases that must keep passing. Upstream misbehaviour is played by
// RawUpstream (tests/integration/support/raw_upstream.h).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "tests/integration/support/raw_upstream.h"
#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

using namespace std::chrono_literals;
const std::string kChat = "/v1/chat/completions";
const std::string kGatewayKey = "tg-conformance-key-4242";

std::string chatBody(const std::string& model, bool stream = false) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"Say hello"}])" +
         (stream ? R"(,"stream":true)" : "") + "}";
}

std::string toLower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A client on one raw TCP connection: sends bytes, reads with bounded waits.
class RawClient {
 public:
  explicit RawClient(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("RawClient: cannot connect");
    }
  }
  ~RawClient() { ::close(fd_); }

  bool send(const std::string& bytes) { return RawUpstream::writeAll(fd_, bytes); }

  // Reads until `needle` appears in everything read so far, the peer closes, or `timeout`.
  // Returns whether the needle was seen.
  bool readUntil(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
      if (!readSome(deadline)) return received_.find(needle) != std::string::npos;
    }
    return true;
  }
  // Reads until the peer closes or `timeout`; returns whether it closed.
  bool readToClose(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (readSome(deadline)) {
    }
    return closed_;
  }
  const std::string& received() const { return received_; }
  bool closed() const { return closed_; }
  bool reset() const { return reset_; }

 private:
  bool readSome(std::chrono::steady_clock::time_point deadline) {
    if (closed_) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16 * 1024];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      reset_ = n < 0;
      return false;
    }
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string received_;
  bool closed_ = false;
  bool reset_ = false;
};

std::string post(const std::string& target, const std::string& body,
                 const std::string& extra_head = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n" +
         extra_head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Sends `bytes` on a new connection; returns what the gateway sent until it closed (or 5 s).
std::string roundTrip(const Stack& stack, const std::string& bytes) {
  RawClient client(stack.gateway().port);
  if (!client.send(bytes)) return {};
  client.readToClose(5s);
  return client.received();
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A well-behaved upstream: every call gets a complete chat answer with this usage.
RawUpstream::Handler answering(int prompt_tokens, int completion_tokens) {
  return [=](const RawUpstream::Call& call) {
    return RawUpstream::writeAll(call.fd,
                                 RawUpstream::chatAnswer(prompt_tokens, completion_tokens));
  };
}

// A stack whose upstream `raw` serves the models "raw-*", priced.
StackOptions rawStack(const RawUpstream& raw, const std::string& upstream_extra = "") {
  StackOptions options;
  options.workers = 1;  // one worker: one upstream pool, so pooled connections are shared
  options.extra_upstreams_yaml =
      "  - name: raw\n"
      "    dialect: openai\n"
      "    base_url: \"http://127.0.0.1:" +
      std::to_string(raw.port()) +
      "\"\n"
      "    models: [\"raw-*\"]\n" +
      upstream_extra;
  return options;
}

// Defect 1: a 1xx answer was taken as the final response.

TEST(HttpConformance, ExpectContinueIsAnsweredByTheGatewayAndNotForwarded) {
  RawUpstream raw(answering(11, 5));
  Stack stack(rawStack(raw));
  RawClient client(stack.gateway().port);
  const std::string body = chatBody("raw-1");
  // As curl does for a large body: the head, then wait for 100 Continue before the body.
  ASSERT_TRUE(
      client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nExpect: "
                  "100-continue\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(client.readUntil("HTTP/1.1 100 Continue\r\n\r\n", 3s)) << client.received();
  ASSERT_TRUE(client.send(body));
  ASSERT_TRUE(client.readUntil("\"total_tokens\":16}}", 5s)) << client.received();
  EXPECT_EQ(count(client.received(), "HTTP/1.1 200 OK"), 1u) << client.received();
  const auto requests = raw.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(toLower(requests[0]).find("expect:"), std::string::npos) << requests[0];
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 11);
  EXPECT_EQ(e.num("/data/usage/output_tokens"), 5);
}

// A body the client sends well after its head (a slow upload): the call starts once the body
// has come, so the wait is not booked as the gateway's own time (overhead_us). A body that
// comes with its head starts the call at the head, and its copy is the gateway's time.
TEST(HttpConformance, SlowUploadIsNotTheGatewaysOverhead) {
  RawUpstream raw(answering(11, 5));
  Stack stack(rawStack(raw));
  RawClient client(stack.gateway().port);
  const std::string request = post(kChat, chatBody("raw-1"));
  const size_t head_end = request.find("\r\n\r\n") + 4;
  ASSERT_TRUE(client.send(request.substr(0, head_end)));
  std::this_thread::sleep_for(400ms);
  ASSERT_TRUE(client.send(request.substr(head_end)));
  ASSERT_TRUE(client.readUntil("\"total_tokens\":16}}", 5s)) << client.received();
  RawClient at_once(stack.gateway().port);
  ASSERT_TRUE(at_once.send(request));
  ASSERT_TRUE(at_once.readUntil("\"total_tokens\":16}}", 5s)) << at_once.received();
  const auto events = stack.waitForEvents(2);
  for (const auto& event : events) {
    Json e(event);
    EXPECT_EQ(e.num("/data/usage/input_tokens"), 11);
    EXPECT_GE(e.num("/data/timing/overhead_us"), 0);
    EXPECT_LT(e.num("/data/timing/overhead_us"), 200000) << event;
  }
}

TEST(HttpConformance, Upstream100ContinueIsNotTheAnswerAndNoCallGetsAnothersAnswer) {
  RawUpstream raw([](const RawUpstream::Call& call) {
    // uvicorn, Go net/http and cpp-httplib answer 100 before the final answer.
    const int tokens = 100 + call.index;
    return RawUpstream::writeAll(
        call.fd, "HTTP/1.1 100 Continue\r\n\r\n" + RawUpstream::chatAnswer(tokens, 1));
  });
  Stack stack(rawStack(raw));
  for (int i = 0; i < 3; ++i) {
    auto r = stack.gatewayClient().post(kChat, chatBody("raw-1"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"prompt_tokens\":" + std::to_string(100 + i) + ","), std::string::npos)
        << "call " << i << " got another call's answer: " << r.body;
  }
  auto events = stack.waitForEvents(3);
  ASSERT_EQ(events.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Json(events[i]).num("/data/usage/input_tokens"), 100 + i);
  }
}

TEST(HttpConformance, Upstream103EarlyHintsIsDroppedAndTheAnswerRelayed) {
  RawUpstream raw([](const RawUpstream::Call& call) {
    return RawUpstream::writeAll(
        call.fd, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
                     RawUpstream::chatAnswer(7, 3));
  });
  Stack stack(rawStack(raw));
  auto r = stack.gatewayClient().post(kChat, chatBody("raw-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"prompt_tokens\":7,"), std::string::npos);
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 7);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
}

TEST(HttpConformance, Upstream101IsNotRelayedAsTheAnswer) {
  RawUpstream raw([](const RawUpstream::Call& call) {
    RawUpstream::writeAll(call.fd,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\n\r\n");
    return false;
  });
  Stack stack(rawStack(raw));
  auto r = stack.gatewayClient().post(kChat, chatBody("raw-1"));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("upstream_protocol_error"), std::string::npos) << r.body;
  EXPECT_EQ(stack.gatewayClient().post(kChat, chatBody("gpt-test-1")).status, 200);
}

// Defect 11: bytes left after a response poisoned the pool.

TEST(HttpConformance, ExtraBytesAfterContentLengthNeverReachTheNextCaller) {
  const std::string poison = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison";
  RawUpstream raw([&](const RawUpstream::Call& call) {
    std::string answer = RawUpstream::chatAnswer(20 + call.index, 1);
    if (call.index == 0) answer += poison;  // one write: the extra bytes arrive with the answer
    return RawUpstream::writeAll(call.fd, answer);
  });
  Stack stack(rawStack(raw));
  ASSERT_EQ(stack.gatewayClient().post(kChat, chatBody("raw-1")).status, 200);
  auto second = stack.gatewayClient().post(kChat, chatBody("raw-1"));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body.find("poison"), std::string::npos) << second.body;
  EXPECT_NE(second.body.find("\"prompt_tokens\":21,"), std::string::npos) << second.body;
}

TEST(HttpConformance, NoContentAnswerWithABodyNeverReachesTheNextCaller) {
  RawUpstream raw([&](const RawUpstream::Call& call) {
    if (call.index == 0) {
      return RawUpstream::writeAll(call.fd,
                                   "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n"
                                   "Content-Length: 6\r\n\r\npoison");
    }
    return RawUpstream::writeAll(call.fd, RawUpstream::chatAnswer(30, 1));
  });
  Stack stack(rawStack(raw));
  EXPECT_EQ(stack.gatewayClient().post(kChat, chatBody("raw-1")).status, 204);
  auto second = stack.gatewayClient().post(kChat, chatBody("raw-1"));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body.find("poison"), std::string::npos) << second.body;
}

// Defect 2: Accept-Encoding was forwarded, so usage was read from compressed bytes.

TEST(HttpConformance, UpstreamIsAskedForIdentityWhateverTheClientAccepts) {
  RawUpstream raw(answering(9, 4));
  Stack stack(rawStack(raw));
  auto r = stack.gatewayClient().post(kChat, chatBody("raw-1"),
                                      {{"accept-encoding", "gzip, deflate, br, zstd"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string request = toLower(raw.requests().at(0));
  EXPECT_NE(request.find("\r\naccept-encoding: identity\r\n"), std::string::npos) << request;
  EXPECT_EQ(request.find("gzip"), std::string::npos) << request;
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.num("/data/usage/input_tokens"), 9);
  EXPECT_EQ(e.str("/data/usage_source"), "provider");
}

TEST(HttpConformance, AnswerCompressedDespiteIdentityIsRelayedUntouchedAndEstimated) {
  const std::string compressed = std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8) + "opaque";
  RawUpstream raw([&](const RawUpstream::Call& call) {
    return RawUpstream::writeAll(call.fd,
                                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 "Content-Encoding: gzip\r\nContent-Length: " +
                                     std::to_string(compressed.size()) + "\r\n\r\n" + compressed);
  });
  Stack stack(rawStack(raw));
  auto r = stack.gatewayClient().post(kChat, chatBody("raw-1"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, compressed);
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/usage_source"), "estimated");
  EXPECT_GT(e.num("/data/usage/input_tokens"), 0);
}

// Defect 4: a Transfer-Encoding other than chunked was read as bodiless.

TEST(HttpConformance, TransferEncodingOtherThanChunkedIs400AndClosesTheConnection) {
  Stack stack;
  RawClient client(stack.gateway().port);
  const std::string smuggled = post(kChat, chatBody("gpt-test-1"), "x-team: smuggled\r\n");
  ASSERT_TRUE(
      client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: "
                  "gzip\r\nx-team: honest\r\n\r\n" +
                  smuggled));
  EXPECT_TRUE(client.readToClose(5s)) << client.received();
  EXPECT_EQ(client.received().rfind("HTTP/1.1 400", 0), 0u) << client.received();
  EXPECT_NE(client.received().find("bad_http_request"), std::string::npos);
  EXPECT_EQ(count(client.received(), "HTTP/1.1 "), 1u) << client.received();
  // Nothing was booked to the team named in the smuggled request.
  for (const auto& line : stack.waitForEvents(1, 300ms)) {
    EXPECT_EQ(line.find("smuggled"), std::string::npos) << line;
  }
}

TEST(HttpConformance, ChunkedNotLastOrInHttp10Is400) {
  Stack stack;
  {
    const std::string got = roundTrip(stack,
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
                                      "Transfer-Encoding: chunked, identity\r\n\r\n");
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  }
  {
    const std::string got = roundTrip(stack,
                                      "POST /v1/chat/completions HTTP/1.0\r\nHost: g\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_NE(got.find(" 400 "), std::string::npos) << got;
  }
  {
    const std::string got = roundTrip(stack,
                                      "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
                                      "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    EXPECT_EQ(got.rfind("HTTP/1.1 501", 0), 0u) << got;
  }
}

// Defect 5: chunked trailers became request headers.

TEST(HttpConformance, ChunkedTrailersAreNeitherHeadersNorForwarded) {
  RawUpstream raw(answering(3, 2));
  Stack stack(rawStack(raw));
  RawClient client(stack.gateway().port);
  const std::string body = chatBody("raw-1");
  std::ostringstream hex;
  hex << std::hex << body.size();
  ASSERT_TRUE(client.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
      "Transfer-Encoding: chunked\r\nx-team: header-team\r\n\r\n" +
      hex.str() + "\r\n" + body + "\r\n0\r\nx-team: trailer-team\r\nx-trailer-probe: 1\r\n\r\n"));
  ASSERT_TRUE(client.readUntil("\"total_tokens\":5}}", 5s)) << client.received();
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/team"), "header-team");
  EXPECT_EQ(toLower(raw.requests().at(0)).find("x-trailer-probe"), std::string::npos);
}

// Defect 6: the whole body was read before the key was checked; chunk extensions and trailer
// sections were buffered without bound.

StackOptions keyedOptions() {
  StackOptions options;
  options.extra_yaml = "keys:\n  - id: conformance\n    sha256: \"" + sha256Hex(kGatewayKey) +
                       "\"\n    team: conformance-team\n";
  return options;
}

TEST(HttpConformance, KeyIsCheckedOnTheHeadBeforeTheBodyIsRead) {
  Stack stack(keyedOptions());
  RawClient client(stack.gateway().port);
  // A head announcing a body that never comes, and no key: the answer is 401 at once, not a 408
  // after waiting for the body.
  ASSERT_TRUE(
      client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
                  "Content-Length: 60000\r\n\r\n"));
  ASSERT_TRUE(client.readUntil("\r\n\r\n", 5s)) << client.received();
  EXPECT_EQ(client.received().rfind("HTTP/1.1 401", 0), 0u) << client.received();
  EXPECT_NE(client.received().find("missing_api_key"), std::string::npos);
}

TEST(HttpConformance, RefusalOnTheHeadKeepsTheConnectionWhenTheBodyIsAlreadyThere) {
  Stack stack(keyedOptions());
  RawClient client(stack.gateway().port);
  ASSERT_TRUE(client.send(
      post(kChat, chatBody("gpt-test-1")) +
      post(kChat, chatBody("gpt-test-1"), "Authorization: Bearer " + kGatewayKey + "\r\n")));
  ASSERT_TRUE(client.readUntil("HTTP/1.1 200", 5s)) << client.received();
  EXPECT_EQ(client.received().rfind("HTTP/1.1 401", 0), 0u);
}

TEST(HttpConformance, EndlessChunkExtensionIs400NotUnboundedMemory) {
  Stack stack;
  RawClient client(stack.gateway().port);
  ASSERT_TRUE(
      client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n5;ext="));
  const std::string filler(64 * 1024, 'a');
  for (int i = 0; i < 8 && client.send(filler); ++i) {
  }
  client.readToClose(5s);
  EXPECT_EQ(client.received().rfind("HTTP/1.1 400", 0), 0u) << client.received().substr(0, 200);
}

TEST(HttpConformance, EndlessTrailerSectionIs400NotUnboundedMemory) {
  Stack stack;
  RawClient client(stack.gateway().port);
  ASSERT_TRUE(
      client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"));
  const std::string trailer = "x-filler: " + std::string(1000, 'b') + "\r\n";
  std::string many;
  for (int i = 0; i < 64; ++i) many += trailer;
  for (int i = 0; i < 8 && client.send(many); ++i) {
  }
  client.readToClose(5s);
  EXPECT_EQ(client.received().rfind("HTTP/1.1 400", 0), 0u) << client.received().substr(0, 200);
}

// Defect 7: a POST was resent after the upstream had seen it.

TEST(HttpConformance, PostIsNeverResentOnceTheUpstreamMayHaveSeenIt) {
  RawUpstream raw([&](const RawUpstream::Call& call) {
    if (call.index == 0) return RawUpstream::writeAll(call.fd, RawUpstream::chatAnswer(1, 1));
    if (call.on_connection == 1) {
      raw.reset(call);  // the upstream read the call, then broke: it may have billed it
      return false;
    }
    return RawUpstream::writeAll(call.fd, RawUpstream::chatAnswer(2, 2));
  });
  Stack stack(rawStack(raw));
  ASSERT_EQ(stack.gatewayClient().post(kChat, chatBody("raw-1")).status, 200);
  auto second = stack.gatewayClient().post(kChat, chatBody("raw-1"));
  EXPECT_EQ(second.status, 502) << second.body;
  EXPECT_EQ(raw.requests().size(), 2u) << "the call was sent twice";
}

// Defect 10: HEAD, a second Connection line, lingering close, limits per call.

TEST(HttpConformance, HeadGets405WithNoBodyAndTheConnectionStaysUsable) {
  Stack stack;
  RawClient client(stack.gateway().port);
  ASSERT_TRUE(client.send("HEAD /v1/chat/completions HTTP/1.1\r\nHost: g\r\n\r\n" +
                          post(kChat, chatBody("gpt-test-1"))));
  ASSERT_TRUE(client.readUntil("\"usage\"", 5s)) << client.received();
  const std::string& got = client.received();
  ASSERT_EQ(got.rfind("HTTP/1.1 405", 0), 0u) << got;
  EXPECT_NE(toLower(got).find("allow: post"), std::string::npos);
  const size_t head_end = got.find("\r\n\r\n");
  EXPECT_EQ(got.compare(head_end + 4, 12, "HTTP/1.1 200"), 0) << got;
}

TEST(HttpConformance, FieldNamedInASecondConnectionLineIsNotForwarded) {
  RawUpstream raw(answering(1, 1));
  Stack stack(rawStack(raw));
  RawClient client(stack.gateway().port);
  ASSERT_TRUE(client.send(post(kChat, chatBody("raw-1"),
                               "Connection: keep-alive\r\nConnection: x-private-hop\r\n"
                               "x-private-hop: secret\r\n")));
  ASSERT_TRUE(client.readUntil("\"total_tokens\":2}}", 5s)) << client.received();
  EXPECT_EQ(toLower(raw.requests().at(0)).find("x-private-hop"), std::string::npos)
      << raw.requests().at(0);
}

TEST(HttpConformance, OversizedHeadIsAnsweredBeforeTheConnectionCloses) {
  Stack stack;
  RawClient client(stack.gateway().port);
  // A head over the limit, and more bytes after it: the 431 must reach the client, not be
  // destroyed by a reset because unread bytes were left in the socket.
  std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nx-big: " + std::string(20 * 1024, 'h') +
      "\r\n\r\n";
  client.send(head + std::string(256 * 1024, 'x'));
  client.readToClose(5s);
  const std::string& got = client.received();
  EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got.substr(0, 100);
  EXPECT_FALSE(client.reset());
}

TEST(HttpConformance, LimitsOfAReloadApplyToTheNextRequestOnAKeptConnection) {
  Stack stack;
  auto client = stack.gatewayClient();
  const std::string body = R"({"model":"gpt-test-1","messages":[{"role":"user","content":")" +
                           std::string(2000, 'a') + R"("}]})";
  ASSERT_EQ(client.post(kChat, body).status, 200);
  std::string config;
  {
    std::ifstream in(stack.configPath());
    config.assign(std::istreambuf_iterator<char>(in), {});
  }
  const auto at = config.find("max_body_bytes: 65536");
  ASSERT_NE(at, std::string::npos);
  config.replace(at, 21, "max_body_bytes: 1000");
  stack.dir().write("tollgate.yaml", config);
  stack.gatewayProcess().signal(SIGHUP);
  // The reload is applied by the gateway's signal handler thread: poll, bounded, for it.
  int status = 0;
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (status != 413 && std::chrono::steady_clock::now() < give_up) {
    auto fresh = stack.gatewayClient();
    status = fresh.post(kChat, body).status;
    if (status != 413) std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(status, 413) << "the reload did not apply to new connections";
  EXPECT_EQ(client.post(kChat, body).status, 413) << "the kept connection kept the old limit";
}

// Defect 14: refusals of unauthenticated traffic and model names were unbounded.

TEST(HttpConformance, UnauthenticatedRefusalsAreBookedAtABoundedRate) {
  StackOptions options = keyedOptions();
  options.workers = 1;
  Stack stack(options);
  auto client = stack.gatewayClient();
  constexpr int kCalls = 200;
  for (int i = 0; i < kCalls; ++i)
    ASSERT_EQ(client.post(kChat, chatBody("gpt-test-1")).status, 401);
  const auto events = stack.waitForEvents(kCalls, 500ms);
  EXPECT_LT(events.size(), static_cast<size_t>(kCalls));
  const int64_t suppressed = stack.metric("tollgate_refusal_events_suppressed_total");
  EXPECT_GT(suppressed, 0);
  EXPECT_EQ(static_cast<int64_t>(events.size()) + suppressed, kCalls);
}

TEST(HttpConformance, LongModelNameIsRefusedAndNeverBookedInFull) {
  Stack stack;
  const std::string model = "gpt-test-" + std::string(20 * 1024, 'm');
  auto r = stack.gatewayClient().post(kChat, chatBody(model));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("invalid_request"), std::string::npos);
  EXPECT_LT(r.body.size(), 1024u);
  const auto events = stack.waitForEvents(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_LT(events[0].size(), 4096u);
}

// Defect 15: a gateway key sent twice reached a passthrough upstream; no total deadline.

TEST(HttpConformance, GatewayKeySentTwiceNeverReachesAPassthroughUpstream) {
  RawUpstream raw(answering(1, 1));
  StackOptions options = rawStack(raw, "    passthrough_auth: true\n");
  options.extra_yaml = keyedOptions().extra_yaml;
  Stack stack(options);
  // In a second x-api-key line, and in the query string, next to a key in Authorization.
  auto r = stack.gatewayClient().post(kChat + "?key=" + kGatewayKey, chatBody("raw-1"),
                                      {{"authorization", "Bearer " + kGatewayKey},
                                       {"x-api-key", "sk-provider-key"},
                                       {"x-api-key", kGatewayKey}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string request = raw.requests().at(0);
  EXPECT_EQ(request.find(kGatewayKey), std::string::npos) << request;
}

TEST(HttpConformance, UpstreamThatDripsForeverIsCutAtTheTotalDeadline) {
  RawUpstream raw([&](const RawUpstream::Call& call) {
    RawUpstream::writeAll(call.fd,
                          "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n");
    // One byte every 100 ms: always within upstream_idle_ms, never done.
    for (int i = 0; i < 100 && !raw.stopping(); ++i) {
      if (!RawUpstream::writeAll(call.fd, "1\r\n:\r\n")) break;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  });
  StackOptions options = rawStack(raw);
  options.extra_timeouts_yaml = "    upstream_total_ms: 1500\n";
  Stack stack(options);
  auto r = stack.gatewayClient().post(kChat, chatBody("raw-1", true), {}, 8s);
  EXPECT_FALSE(r.complete) << "a stream cut by the gateway must not look complete";
  Json e(stack.waitForEvents(1).at(0));
  EXPECT_EQ(e.str("/data/outcome"), "timeout");
}

// Classic cases that already passed and must keep passing.

TEST(HttpConformance, ContentLengthWithTransferEncodingIsRefused) {
  Stack stack;
  const std::string got =
      roundTrip(stack,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
}

TEST(HttpConformance, DuplicateContentLengthIsRefused) {
  Stack stack;
  const std::string got =
      roundTrip(stack,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\n"
                "Content-Length: 3\r\n\r\n{}");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
}

TEST(HttpConformance, ObsFoldIsNeverForwardedAsAFold) {
  RawUpstream raw(answering(1, 1));
  Stack stack(rawStack(raw));
  RawClient client(stack.gateway().port);
  const std::string body = chatBody("raw-1");
  ASSERT_TRUE(
      client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: g\r\nx-custom: a\r\n"
                  " folded\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body));
  ASSERT_TRUE(client.readUntil("\r\n\r\n", 5s));
  // RFC 9112 section 5.2: refuse it, or replace the fold with spaces; never pass it on.
  if (client.received().rfind("HTTP/1.1 400", 0) != 0) {
    ASSERT_EQ(raw.requests().size(), 1u);
    EXPECT_EQ(raw.requests()[0].find("\r\n folded"), std::string::npos) << raw.requests()[0];
  }
}

TEST(HttpConformance, BareLineFeedIsRefused) {
  Stack stack;
  const std::string got =
      roundTrip(stack, "POST /v1/chat/completions HTTP/1.1\nHost: g\nContent-Length: 2\n\n{}");
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
}

TEST(HttpConformance, PipelinedRequestsAreAnsweredInOrder) {
  Stack stack;
  RawClient client(stack.gateway().port);
  ASSERT_TRUE(client.send(post(kChat, chatBody("gpt-test-1"), "x-mock-prompt-tokens: 41\r\n") +
                          post(kChat, chatBody("gpt-test-1"), "x-mock-prompt-tokens: 42\r\n")));
  ASSERT_TRUE(client.readUntil("\"prompt_tokens\":42,", 5s)) << client.received();
  const auto first = client.received().find("\"prompt_tokens\":41,");
  ASSERT_NE(first, std::string::npos);
  EXPECT_LT(first, client.received().find("\"prompt_tokens\":42,"));
}

TEST(HttpConformance, NoContentAndNotModifiedFromTheUpstreamHaveNoBody) {
  RawUpstream raw([](const RawUpstream::Call& call) {
    const bool first = call.index == 0;
    return RawUpstream::writeAll(
        call.fd, first ? "HTTP/1.1 204 No Content\r\n\r\n" : "HTTP/1.1 304 Not Modified\r\n\r\n");
  });
  Stack stack(rawStack(raw));
  auto client = stack.gatewayClient();
  auto a = client.post(kChat, chatBody("raw-1"));
  EXPECT_EQ(a.status, 204);
  EXPECT_TRUE(a.body.empty());
  auto b = client.post(kChat, chatBody("raw-1"));
  EXPECT_EQ(b.status, 304);
  EXPECT_TRUE(b.body.empty());
}

}  // namespace
}  // namespace tollgate::testing
